<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="it" sourcelanguage="en">
    <context>
        <name>@default</name>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>administrator</source>
            <translation>amministratore</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>coordinator</source>
            <translation>coordinatore</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>technician</source>
            <translation>tecnico</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>volunteer</source>
            <translation>volontario</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>(saved: leave empty to keep it)</source>
            <translation>(salvata: lascia vuoto per mantenerla)</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Choose an authentication configuration, or enter user name and password.</source>
            <translation>Scegli una configurazione di autenticazione, oppure inserisci nome utente e password.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Enter the user name.</source>
            <translation>Inserisci il nome utente.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Enter the password.</source>
            <translation>Inserisci la password.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Enter the server address.</source>
            <translation>Inserisci l'indirizzo del server.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>The server address must start with http:// or https://.</source>
            <translation>L'indirizzo del server deve iniziare con http:// o https://.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>QGIS could not store the credentials: {detail}</source>
            <translation>QGIS non è riuscito a salvare le credenziali: {detail}</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Wrong user name or password: the server refused the credentials.</source>
            <translation>Nome utente o password errati: il server ha rifiutato le credenziali.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>The server does not answer at {url}. Check the address and the network connection, or try again later.</source>
            <translation>Il server non risponde all'indirizzo {url}. Controlla l'indirizzo e la connessione di rete, oppure riprova più tardi.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>{url} does not look like a Rigenera server (no /api/me).</source>
            <translation>{url} non sembra un server Rigenera (manca /api/me).</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>The server refused the request: {message}</source>
            <translation>Il server ha rifiutato la richiesta: {message}</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Unexpected error: {detail}</source>
            <translation>Errore imprevisto: {detail}</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Connected as {username} ({role}).</source>
            <translation>Connesso come {username} ({role}).</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Municipalities: {comuni}</source>
            <translation>Comuni: {comuni}</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Municipalities: all</source>
            <translation>Comuni: tutti</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Rigenera: urban regeneration</source>
            <translation>Rigenera: rigenerazione urbana</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Connect…</source>
            <translation>Connetti…</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Server address and credentials; test the connection</source>
            <translation>Indirizzo del server e credenziali; prova della connessione</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Load layers</source>
            <translation>Carica layer</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Add the group of Rigenera layers to the project</source>
            <translation>Aggiunge al progetto il gruppo dei layer di Rigenera</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Edit</source>
            <translation>Modifica</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Check out a working copy of the active layer to edit it, also offline</source>
            <translation>Crea una copia di lavoro del layer attivo per modificarlo, anche senza connessione</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Synchronise</source>
            <translation>Sincronizza</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Send the local changes to the server and receive the others' changes</source>
            <translation>Invia al server le modifiche locali e ricevi quelle degli altri</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>History</source>
            <translation>Cronologia</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>History of the selected feature</source>
            <translation>Cronologia dell'elemento selezionato</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Review queue</source>
            <translation>Coda di revisione</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Review the features waiting for validation</source>
            <translation>Revisiona gli elementi in attesa di validazione</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>This function is not available in this installation: {detail}</source>
            <translation>Questa funzione non è disponibile in questa installazione: {detail}</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Connection saved.</source>
            <translation>Connessione salvata.</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Some layers could not be loaded ({names}): is the server reachable and are the credentials right? Details in the Rigenera log.</source>
            <translation>Alcuni layer non sono stati caricati ({names}): il server è raggiungibile e le credenziali sono corrette? Dettagli nel registro Rigenera.</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Rigenera layers loaded.</source>
            <translation>Layer di Rigenera caricati.</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Import file into the catalogue…</source>
            <translation>Importa file nel catalogo…</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Check a layer or a file against a collection (dry run), then import it</source>
            <translation>Verifica un layer o un file rispetto a una collezione (prova), poi importalo</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>To locate</source>
            <translation>Da localizzare</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Projects placed at their comune's point, to draw where they really are</source>
            <translation>Progetti posti nel punto del loro comune, da disegnare dove sono davvero</translation>
        </message>
        <message>
            <location filename="../gui/panel.py" />
            <source>Connect to a Rigenera server first</source>
            <translation>Connettiti prima a un server Rigenera</translation>
        </message>
    </context>
    <context>
        <name>ConflictDialog</name>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Keep mine</source>
            <translation>Tieni le mie</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Keep theirs</source>
            <translation>Tieni le loro</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Merge</source>
            <translation>Unisci</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Edit conflict – feature {0}</source>
            <translation>Conflitto di modifica – elemento {0}</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>This feature was deleted on the server after your checkout, and you changed it. Keep mine restores it with your version; keep theirs accepts the deletion.</source>
            <translation>Questo elemento è stato eliminato sul server dopo il tuo scaricamento, e tu lo hai modificato. "Tieni le mie" lo ripristina con la tua versione; "Tieni le loro" accetta l'eliminazione.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>You deleted this feature, and someone else changed it on the server. Keep mine deletes it anyway; keep theirs keeps the server's version.</source>
            <translation>Hai eliminato questo elemento, e qualcun altro lo ha modificato sul server. "Tieni le mie" lo elimina comunque; "Tieni le loro" mantiene la versione del server.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>On the map: your geometry in blue, the server's in red.</source>
            <translation>Sulla mappa: la tua geometria in blu, quella del server in rosso.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Field</source>
            <translation>Campo</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>At checkout</source>
            <translation>Allo scaricamento</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Mine</source>
            <translation>Mie</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Theirs (server)</source>
            <translation>Loro (server)</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Keep</source>
            <translation>Tieni</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Geometry</source>
            <translation>Geometria</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>(deleted)</source>
            <translation>(eliminato)</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Theirs</source>
            <translation>Loro</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>A deleted feature cannot be merged field by field</source>
            <translation>Un elemento eliminato non si può unire campo per campo</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>{0}, {1} vertices</source>
            <translation>{0}, {1} vertici</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Someone else changed this feature on the server after your checkout (server version {0}). What only one side changed is kept; for the fields changed on both sides (in bold) choose mine or theirs, all at once or field by field.</source>
            <translation>Qualcun altro ha modificato questo elemento sul server dopo il tuo scaricamento (versione del server {0}). Ciò che è cambiato da una parte sola viene mantenuto; per i campi modificati da entrambe le parti (in grassetto) scegli le tue o le loro, tutto insieme o campo per campo.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Mine for the fields changed on both sides</source>
            <translation>Le mie per i campi modificati da entrambe le parti</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Theirs for the fields changed on both sides</source>
            <translation>Le loro per i campi modificati da entrambe le parti</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Changed only by you: yours is kept</source>
            <translation>Modificato solo da te: resta il tuo valore</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Changed only on the server: theirs is kept</source>
            <translation>Modificato solo sul server: resta il valore del server</translation>
        </message>
    </context>
    <context>
        <name>ConflictDialogBase</name>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Rigenera – edit conflict</source>
            <translation>Rigenera – conflitto di modifica</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Someone else changed this feature on the server after your checkout.</source>
            <translation>Qualcun altro ha modificato questo elemento sul server dopo il tuo scaricamento.</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>On the map: your geometry in blue, the server's in red.</source>
            <translation>Sulla mappa: la tua geometria in blu, quella del server in rosso.</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Field</source>
            <translation>Campo</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>At checkout</source>
            <translation>Allo scaricamento</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Mine</source>
            <translation>Mie</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Theirs (server)</source>
            <translation>Loro (server)</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Keep</source>
            <translation>Tieni</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Keep mine</source>
            <translation>Tieni le mie</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Keep theirs</source>
            <translation>Tieni le loro</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Merge</source>
            <translation>Unisci</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Decide later</source>
            <translation>Decidi dopo</translation>
        </message>
    </context>
    <context>
        <name>ConnectDialog</name>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Rigenera – Connect to the server</source>
            <translation>Rigenera – Connessione al server</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Server address</source>
            <translation>Indirizzo del server</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>The address of the Rigenera server, without /ogc</source>
            <translation>L'indirizzo del server Rigenera, senza /ogc</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Credentials</source>
            <translation>Credenziali</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>User name and password</source>
            <translation>Nome utente e password</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>User name</source>
            <translation>Nome utente</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Password</source>
            <translation>Password</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>An existing QGIS authentication configuration</source>
            <translation>Una configurazione di autenticazione di QGIS già esistente</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>The password is kept only in QGIS's encrypted authentication database, never in the project or the settings.</source>
            <translation>La password è conservata solo nel database di autenticazione cifrato di QGIS, mai nel progetto o nelle impostazioni.</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Test connection</source>
            <translation>Prova connessione</translation>
        </message>
    </context>
    <context>
        <name>EditingController</name>
        <message>
            <location filename="../gui/editing.py" />
            <source>Connect to a Rigenera server first</source>
            <translation>Connettiti prima a un server Rigenera</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Downloading features…</source>
            <translation>Scaricamento degli elementi…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Writing the working copy…</source>
            <translation>Scrittura della copia di lavoro…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Looking for local changes…</source>
            <translation>Ricerca delle modifiche locali…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Sending the changes…</source>
            <translation>Invio delle modifiche…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Changes accepted by the server</source>
            <translation>Modifiche accettate dal server</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Updating local versions…</source>
            <translation>Aggiornamento delle versioni locali…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Receiving changes made by others…</source>
            <translation>Ricezione delle modifiche fatte da altri…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Done</source>
            <translation>Fatto</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Working copies</source>
            <translation>Copie di lavoro</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Working copy {0} not reopened: {1}</source>
            <translation>Copia di lavoro {0} non riaperta: {1}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Select a Rigenera layer to edit</source>
            <translation>Seleziona un layer Rigenera da modificare</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The whole collection</source>
            <translation>L'intera collezione</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The current map extent</source>
            <translation>L'estensione attuale della mappa</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>My comuni</source>
            <translation>I miei comuni</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Edit {0}</source>
            <translation>Modifica {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>What to check out for editing:</source>
            <translation>Cosa scaricare per la modifica:</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Your account has no comuni of its own: checking out the whole collection</source>
            <translation>Il tuo account non ha comuni propri: scarico l'intera collezione</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Checking out {0}</source>
            <translation>Scaricamento di {0} in una copia di lavoro</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Checkout failed: {0}</source>
            <translation>Copia di lavoro non creata: {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Working copy of {0} ready: {1} features, editable offline</source>
            <translation>Copia di lavoro di {0} pronta: {1} elementi, modificabili anche offline</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>No working copy to synchronise: use Edit on a Rigenera layer first</source>
            <translation>Nessuna copia di lavoro da sincronizzare: usa prima Modifica su un layer Rigenera</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronise</source>
            <translation>Sincronizza</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Comment for this change (optional):</source>
            <translation>Commento per questa modifica (facoltativo):</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Edits of {0} could not be saved: {1}</source>
            <translation>Le modifiche di {0} non sono state salvate: {1}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronising {0}</source>
            <translation>Sincronizzazione di {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronisation stopped: your edits are kept in the working copy; synchronise again to resolve the conflicts</source>
            <translation>Sincronizzazione interrotta: le tue modifiche restano nella copia di lavoro; sincronizza di nuovo per risolvere i conflitti</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronised: {0} created, {1} changed, {2} deleted; {3} received from others</source>
            <translation>Sincronizzato: {0} creati, {1} modificati, {2} eliminati; {3} ricevuti da altri</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>No local changes; {0} received from others</source>
            <translation>Nessuna modifica locale; {0} ricevuti da altri</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server cannot be reached: your edits are kept in the working copy and will be sent at the next synchronisation ({0})</source>
            <translation>Server non raggiungibile: le tue modifiche restano nella copia di lavoro e saranno inviate alla prossima sincronizzazione ({0})</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server refused: your role may not make these changes. Your edits are kept in the working copy ({0})</source>
            <translation>Il server ha rifiutato: il tuo ruolo non consente queste modifiche. Le tue modifiche restano nella copia di lavoro ({0})</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Conflicts still open: your edits are kept in the working copy</source>
            <translation>Conflitti ancora aperti: le tue modifiche restano nella copia di lavoro</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronisation failed: {0}</source>
            <translation>Sincronizzazione non riuscita: {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server refused the changes (nothing was written; your edits are kept, the features are selected): {0}</source>
            <translation>Il server ha rifiutato le modifiche (nulla è stato scritto; le tue modifiche restano, gli elementi sono selezionati): {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Select a feature of a Rigenera layer</source>
            <translation>Seleziona un elemento di un layer Rigenera</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Select exactly one feature to see its history</source>
            <translation>Seleziona un solo elemento per vederne la cronologia</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>This feature is new: it has no history on the server yet</source>
            <translation>Questo elemento è nuovo: non ha ancora una cronologia sul server</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Version restored on the server (new version {0}); synchronise your working copies to receive it</source>
            <translation>Versione ripristinata sul server (nuova versione {0}); sincronizza le copie di lavoro per riceverla</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server could not take the changes now, nothing was written: your edits are kept in the working copy; synchronise again in a moment ({0})</source>
            <translation>Il server non ha potuto accettare le modifiche ora e non è stato scritto nulla: le tue modifiche restano nella copia di lavoro; sincronizza di nuovo tra poco ({0})</translation>
        </message>
    </context>
    <context>
        <name>HistoryDialog</name>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>History of {0} {1}</source>
            <translation>Cronologia di {0} {1}</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Restore this version</source>
            <translation>Ripristina questa versione</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Close</source>
            <translation>Chiudi</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Version</source>
            <translation>Versione</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>When</source>
            <translation>Quando</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Who</source>
            <translation>Chi</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Operation</source>
            <translation>Operazione</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>What changed</source>
            <translation>Cosa è cambiato</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Comment</source>
            <translation>Commento</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>created</source>
            <translation>creato</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>changed</source>
            <translation>modificato</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>deleted</source>
            <translation>eliminato</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>reviewed</source>
            <translation>revisionato</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>restored</source>
            <translation>ripristinato</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>No history yet</source>
            <translation>Ancora nessuna cronologia</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>new feature</source>
            <translation>nuovo elemento</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>geometry</source>
            <translation>geometria</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Your role ({0}) cannot restore versions</source>
            <translation>Il tuo ruolo ({0}) non può ripristinare versioni</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>This is the current version</source>
            <translation>Questa è la versione attuale</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Write this version again as a new version</source>
            <translation>Riscrive questa versione come nuova versione</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Write version {0} again as the current version?</source>
            <translation>Riscrivere la versione {0} come versione attuale?</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Not restored: {0}</source>
            <translation>Non ripristinato: {0}</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Version {0} restored as version {1}</source>
            <translation>Versione {0} ripristinata come versione {1}</translation>
        </message>
    </context>
    <context>
        <name>HistoryDialogBase</name>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Rigenera – feature history</source>
            <translation>Rigenera – cronologia dell'elemento</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>History</source>
            <translation>Cronologia</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Version</source>
            <translation>Versione</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>When</source>
            <translation>Quando</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Who</source>
            <translation>Chi</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Operation</source>
            <translation>Operazione</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>What changed</source>
            <translation>Cosa è cambiato</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Comment</source>
            <translation>Commento</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Restore this version</source>
            <translation>Ripristina questa versione</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Close</source>
            <translation>Chiudi</translation>
        </message>
    </context>
    <context>
        <name>ImportDialog</name>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Import file into the catalogue</source>
            <translation>Importa file nel catalogo</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>GIS files</source>
            <translation>File GIS</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Mapping</source>
            <translation>Mappatura</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Abandoned sites</source>
            <translation>Aree dismesse</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Projects</source>
            <translation>Interventi</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Sustainable mobility network</source>
            <translation>Rete della mobilità sostenibile</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Public transport stops</source>
            <translation>Fermate del trasporto pubblico</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Row</source>
            <translation>Riga</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Field</source>
            <translation>Campo</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Reason</source>
            <translation>Motivo</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Value</source>
            <translation>Valore</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Close</source>
            <translation>Chiudi</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Read</source>
            <translation>Lette</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Created</source>
            <translation>Create</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Updated</source>
            <translation>Aggiornate</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Unchanged</source>
            <translation>Invariate</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Duplicates</source>
            <translation>Duplicati</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Invalid</source>
            <translation>Non valide</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Written</source>
            <translation>Scritte</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Choose a vector layer</source>
            <translation>Scegli un layer vettoriale</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Choose a file</source>
            <translation>Scegli un file</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Unexpected error: {0}</source>
            <translation>Errore imprevisto: {0}</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Checking the file on the server…</source>
            <translation>Verifica del file sul server…</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Importing…</source>
            <translation>Importazione in corso…</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Run the check (dry run) first</source>
            <translation>Esegui prima la verifica (prova)</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Write into {collection}: {created} new, {updated} updated features ({invalid} invalid rows{skipped})?</source>
            <translation>Scrivere in {collection}: {created} elementi nuovi, {updated} aggiornati ({invalid} righe non valide{skipped})?</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>, skipped</source>
            <translation>, saltate</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Check done, nothing written: {created} would be created, {updated} updated, {unchanged} unchanged, {invalid} invalid of {read} rows.</source>
            <translation>Verifica fatta, nulla è stato scritto: su {read} righe {created} sarebbero create, {updated} aggiornate, {unchanged} invariate, {invalid} non valide.</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Import done: {created} created, {updated} updated, {unchanged} unchanged, {invalid} invalid rows skipped of {read}.</source>
            <translation>Importazione fatta: su {read} righe {created} create, {updated} aggiornate, {unchanged} invariate, {invalid} non valide saltate.</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Import refused, nothing written: {message}</source>
            <translation>Importazione rifiutata, nulla è stato scritto: {message}</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Rejected rows ({shown} of {total})</source>
            <translation>Righe scartate ({shown} di {total})</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Rejected rows</source>
            <translation>Righe scartate</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Save the rejected rows</source>
            <translation>Salva le righe scartate</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Rejected rows saved in {0}</source>
            <translation>Righe scartate salvate in {0}</translation>
        </message>
    </context>
    <context>
        <name>ImportDialogBase</name>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Import file into the catalogue</source>
            <translation>Importa file nel catalogo</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>What to import</source>
            <translation>Cosa importare</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Layer of the project</source>
            <translation>Layer del progetto</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Only the selected features</source>
            <translation>Solo gli elementi selezionati</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>File</source>
            <translation>File</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Layer in the file</source>
            <translation>Layer nel file</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Collection</source>
            <translation>Collezione</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Mapping (YAML, optional)</source>
            <translation>Mappatura (YAML, facoltativa)</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>CRS of the file</source>
            <translation>SR del file</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Skip the invalid rows (write the valid ones)</source>
            <translation>Salta le righe non valide (scrivi quelle valide)</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Check (dry run)</source>
            <translation>Verifica (prova)</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Import</source>
            <translation>Importa</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Rejected rows</source>
            <translation>Righe scartate</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Row</source>
            <translation>Riga</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Field</source>
            <translation>Campo</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Reason</source>
            <translation>Motivo</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Value</source>
            <translation>Valore</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Notes</source>
            <translation>Note</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Select the rejected features in the layer</source>
            <translation>Seleziona nel layer gli elementi scartati</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Save the rejected rows (CSV)…</source>
            <translation>Salva le righe scartate (CSV)…</translation>
        </message>
    </context>
    <context>
        <name>NearTransitAlgorithm</name>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Sites near public transport</source>
            <translation>Siti vicino al trasporto pubblico</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Analysis</source>
            <translation>Analisi</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>transit,metro,tram,bus,railway,station,stop,site,regeneration,distance</source>
            <translation>trasporto pubblico,metropolitana,tram,autobus,ferrovia,stazione,fermata,area dismessa,rigenerazione,distanza</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Finds the sites (abandoned and underused areas) within the given distance of public transport stops of the chosen modes, with the nearest stop and its distance in metres. The server computes the answer over all its data (PostGIS, geodesic distance). Polygon sites are written to the first output, sites known only by their location (points) to the second.

Comuni: ISTAT codes separated by commas (e.g. 015146 for Milano); empty = all. Modes and states: none selected = all.

Server URL and authentication default to the plugin's saved connection.</source>
            <translation>Trova i siti (aree dismesse e sottoutilizzate) entro la distanza indicata dalle fermate del trasporto pubblico dei modi scelti, con la fermata più vicina e la sua distanza in metri. Il server calcola la risposta su tutti i suoi dati (PostGIS, distanza geodetica). I siti poligonali vanno nel primo risultato, quelli noti solo per la posizione (punti) nel secondo.

Comuni: codici ISTAT separati da virgole (es. 015146 per Milano); vuoto = tutti. Modi e stati: nessuno selezionato = tutti.

URL del server e autenticazione sono, se non indicati, quelli della connessione salvata del plugin.</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Metro</source>
            <translation>Metropolitana</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Railway</source>
            <translation>Ferrovia</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Tram</source>
            <translation>Tram</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Bus</source>
            <translation>Autobus</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Abandoned</source>
            <translation>Dismesso</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Underused</source>
            <translation>Sottoutilizzato</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Partly used</source>
            <translation>Parzialmente utilizzato</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Regenerated</source>
            <translation>Rigenerato</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Distance (metres)</source>
            <translation>Distanza (metri)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Public transport modes</source>
            <translation>Modi del trasporto pubblico</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Comuni (ISTAT codes, comma separated; empty = all)</source>
            <translation>Comuni (codici ISTAT separati da virgole; vuoto = tutti)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Site states (none = all)</source>
            <translation>Stato dei siti (nessuno = tutti)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Rigenera server URL (default: the saved connection)</source>
            <translation>URL del server Rigenera (predefinito: la connessione salvata)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Authentication (default: the saved connection)</source>
            <translation>Autenticazione (predefinita: la connessione salvata)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Sites near public transport (points)</source>
            <translation>Siti vicino al trasporto pubblico (punti)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Number of sites</source>
            <translation>Numero di siti</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Invalid ISTAT code(s): {0} (six digits, e.g. 015146)</source>
            <translation>Codici ISTAT non validi: {0} (sei cifre, es. 015146)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>No Rigenera server: connect the plugin first or set the server URL</source>
            <translation>Nessun server Rigenera: connetti prima il plugin o indica l'URL del server</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Asking {0} for sites within {1} m of {2} stops</source>
            <translation>Richiesta a {0} dei siti entro {1} m dalle fermate {2}</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>The server refused the request: {0}</source>
            <translation>Il server ha rifiutato la richiesta: {0}</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Unexpected answer from the server: {0}</source>
            <translation>Risposta inattesa dal server: {0}</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>{0} sites known only by their location (points) were not written: the points output is disabled</source>
            <translation>{0} siti noti solo per la posizione (punti) non sono stati scritti: il risultato dei punti è disattivato</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>{0} sites found ({1} polygons, {2} points)</source>
            <translation>{0} siti trovati ({1} poligoni, {2} punti)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>{0} — the process is public: it runs without credentials</source>
            <translation>{0} — il processo è pubblico: viene eseguito senza credenziali</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>The server cannot be reached: {0}</source>
            <translation>Il server non è raggiungibile: {0}</translation>
        </message>
    </context>
    <context>
        <name>ReviewDock</name>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Rigenera – review</source>
            <translation>Rigenera – revisione</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Comune</source>
            <translation>Comune</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Features</source>
            <translation>Elementi</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Waiting for review</source>
            <translation>In attesa di revisione</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Automatic checks</source>
            <translation>Controlli automatici</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Refresh</source>
            <translation>Aggiorna</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Accept</source>
            <translation>Accetta</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Reject</source>
            <translation>Respingi</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Comment (required to reject)</source>
            <translation>Commento (obbligatorio per respingere)</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Check</source>
            <translation>Controllo</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Result</source>
            <translation>Esito</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Sites</source>
            <translation>Aree dismesse</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Projects</source>
            <translation>Interventi</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Your role ({0}) cannot review: volunteers, coordinators and administrators can</source>
            <translation>Il tuo ruolo ({0}) non può revisionare: possono farlo volontari, coordinatori e amministratori</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>All comuni</source>
            <translation>Tutti i comuni</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Version {0}, changed by {1} on {2}</source>
            <translation>Versione {0}, modificata da {1} il {2}</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} features waiting for review</source>
            <translation>{0} elementi in attesa di revisione</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>yes</source>
            <translation>sì</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>no</source>
            <translation>no</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Valid geometry</source>
            <translation>Geometria valida</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Self-intersection</source>
            <translation>Autointersezione</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Area</source>
            <translation>Superficie</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Thin sliver</source>
            <translation>Poligono sottile (scheggia)</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Plausible area (20 m² – 5 km²)</source>
            <translation>Superficie plausibile (20 m² – 5 km²)</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Overlaps other sites</source>
            <translation>Si sovrappone ad altre aree</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Outside its comune</source>
            <translation>Fuori dal proprio comune</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} m</source>
            <translation>{0} m</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Select a feature in the queue</source>
            <translation>Seleziona un elemento nell'elenco</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Your role ({0}) cannot review</source>
            <translation>Il tuo ruolo ({0}) non può revisionare</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Say why in the comment: a rejection needs one</source>
            <translation>Spiega il motivo nel commento: per respingere serve un commento</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Not sent: {0}</source>
            <translation>Non inviato: {0}</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} accepted</source>
            <translation>{0} accettato</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} rejected</source>
            <translation>{0} respinto</translation>
        </message>
    </context>
    <context>
        <name>ReviewDockBase</name>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Comune</source>
            <translation>Comune</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Features</source>
            <translation>Elementi</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Waiting for review</source>
            <translation>In attesa di revisione</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Refresh</source>
            <translation>Aggiorna</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Automatic checks</source>
            <translation>Controlli automatici</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Check</source>
            <translation>Controllo</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Result</source>
            <translation>Esito</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Comment (required to reject)</source>
            <translation>Commento (obbligatorio per respingere)</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Accept</source>
            <translation>Accetta</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Reject</source>
            <translation>Respingi</translation>
        </message>
    </context>
    <context>
        <name>RigeneraProcessingProvider</name>
        <message>
            <location filename="../processing/provider.py" />
            <source>Rigenera – urban regeneration (Metropolitan City of Milan)</source>
            <translation>Rigenera – rigenerazione urbana (Città metropolitana di Milano)</translation>
        </message>
    </context>
    <context>
        <name>ToLocateDock</name>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Rigenera – to locate</source>
            <translation>Rigenera – da localizzare</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Projects placed at their comune's point: draw their real point or perimeter.</source>
            <translation>Progetti posti nel punto del loro comune: disegnane il punto o il perimetro reale.</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>ID</source>
            <translation>ID</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>CUP</source>
            <translation>CUP</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Title</source>
            <translation>Titolo</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Comuni</source>
            <translation>Comuni</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Refresh</source>
            <translation>Aggiorna</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Load more</source>
            <translation>Carica altri</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Zoom</source>
            <translation>Zoom</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Locate</source>
            <translation>Localizza</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Use the drawn polygon</source>
            <translation>Usa il poligono disegnato</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select the project in the working copy and edit its point</source>
            <translation>Seleziona il progetto nella copia di lavoro e modificane il punto</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Make the polygon selected in the working copy's polygons layer the project's perimeter</source>
            <translation>Fai del poligono selezionato nel layer dei poligoni della copia di lavoro il perimetro del progetto</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Also in comuni that are not yours: a coordinator can locate it</source>
            <translation>Anche in comuni che non sono tuoi: può localizzarlo un coordinatore</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Whole metropolitan area</source>
            <translation>Intera area metropolitana</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>{shown} of {total} projects to locate</source>
            <translation>{shown} di {total} progetti da localizzare</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>No location for project {0}</source>
            <translation>Nessuna posizione per il progetto {0}</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select a project in the list</source>
            <translation>Seleziona un progetto nell'elenco</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Project {0} is not in your working copy of the projects</source>
            <translation>Il progetto {0} non è nella tua copia di lavoro degli interventi</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Move the point of "{0}" to its real place (or draw its perimeter in the polygons layer, then "Use the drawn polygon"), then synchronise</source>
            <translation>Sposta il punto di "{0}" nel luogo reale (oppure disegnane il perimetro nel layer dei poligoni, poi "Usa il poligono disegnato"), quindi sincronizza</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select a project and open its working copy with Locate first</source>
            <translation>Seleziona un progetto e apri prima la sua copia di lavoro con Localizza</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select exactly one polygon you drew in "{0}"</source>
            <translation>Seleziona esattamente un poligono disegnato in "{0}"</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>"{0}" now has the drawn perimeter: synchronise to send it</source>
            <translation>"{0}" ha ora il perimetro disegnato: sincronizza per inviarlo</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>On the map, only the projects to locate</source>
            <translation>Sulla mappa solo i progetti da localizzare</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Filter the Rigenera projects layers on geom_source = 'comune_point'</source>
            <translation>Filtra i layer degli interventi Rigenera su geom_source = 'comune_point'</translation>
        </message>
    </context>
    <context>
        <name>ToLocateDockBase</name>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Projects placed at their comune's point: draw their real point or perimeter.</source>
            <translation>Progetti posti nel punto del loro comune: disegnane il punto o il perimetro reale.</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>ID</source>
            <translation>ID</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>CUP</source>
            <translation>CUP</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Title</source>
            <translation>Titolo</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Comuni</source>
            <translation>Comuni</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Refresh</source>
            <translation>Aggiorna</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Load more</source>
            <translation>Carica altri</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Zoom</source>
            <translation>Zoom</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Locate</source>
            <translation>Localizza</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Use the drawn polygon</source>
            <translation>Usa il poligono disegnato</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>On the map, only the projects to locate</source>
            <translation>Sulla mappa solo i progetti da localizzare</translation>
        </message>
    </context>
    <context>
        <name>VolunteerGeometryGuard</name>
        <message>
            <location filename="../gui/editing.py" />
            <source>As a volunteer you can review features but not change geometries: geometry edits on {0} will be undone</source>
            <translation>Come volontario puoi revisionare gli elementi ma non modificarne le geometrie: le modifiche alle geometrie di {0} saranno annullate</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Volunteers cannot change geometries: the edit on {0} was undone. Use the review dock to accept or reject features.</source>
            <translation>I volontari non possono modificare le geometrie: la modifica su {0} è stata annullata. Usa il pannello di revisione per accettare o respingere gli elementi.</translation>
        </message>
    </context>
</TS>
