<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
    <context>
        <name>@default</name>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>administrator</source>
            <translation>administrator</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>coordinator</source>
            <translation>coordinator</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>technician</source>
            <translation>technician</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>volunteer</source>
            <translation>volunteer</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>(saved: leave empty to keep it)</source>
            <translation>(saved: leave empty to keep it)</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Choose an authentication configuration, or enter user name and password.</source>
            <translation>Choose an authentication configuration, or enter user name and password.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Enter the user name.</source>
            <translation>Enter the user name.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Enter the password.</source>
            <translation>Enter the password.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Enter the server address.</source>
            <translation>Enter the server address.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>The server address must start with http:// or https://.</source>
            <translation>The server address must start with http:// or https://.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>QGIS could not store the credentials: {detail}</source>
            <translation>QGIS could not store the credentials: {detail}</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Wrong user name or password: the server refused the credentials.</source>
            <translation>Wrong user name or password: the server refused the credentials.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>The server does not answer at {url}. Check the address and the network connection, or try again later.</source>
            <translation>The server does not answer at {url}. Check the address and the network connection, or try again later.</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>{url} does not look like a Rigenera server (no /api/me).</source>
            <translation>{url} does not look like a Rigenera server (no /api/me).</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>The server refused the request: {message}</source>
            <translation>The server refused the request: {message}</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Unexpected error: {detail}</source>
            <translation>Unexpected error: {detail}</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Connected as {username} ({role}).</source>
            <translation>Connected as {username} ({role}).</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Municipalities: {comuni}</source>
            <translation>Municipalities: {comuni}</translation>
        </message>
        <message>
            <location filename="../gui/connect_dialog.py" />
            <source>Municipalities: all</source>
            <translation>Municipalities: all</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Rigenera: urban regeneration</source>
            <translation>Rigenera: urban regeneration</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Connect…</source>
            <translation>Connect…</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Server address and credentials; test the connection</source>
            <translation>Server address and credentials; test the connection</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Load layers</source>
            <translation>Load layers</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Add the group of Rigenera layers to the project</source>
            <translation>Add the group of Rigenera layers to the project</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Edit</source>
            <translation>Edit</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Check out a working copy of the active layer to edit it, also offline</source>
            <translation>Check out a working copy of the active layer to edit it, also offline</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Synchronise</source>
            <translation>Synchronise</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Send the local changes to the server and receive the others' changes</source>
            <translation>Send the local changes to the server and receive the others' changes</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>History</source>
            <translation>History</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>History of the selected feature</source>
            <translation>History of the selected feature</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Review queue</source>
            <translation>Review queue</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Review the features waiting for validation</source>
            <translation>Review the features waiting for validation</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>This function is not available in this installation: {detail}</source>
            <translation>This function is not available in this installation: {detail}</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Connection saved.</source>
            <translation>Connection saved.</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Some layers could not be loaded ({names}): is the server reachable and are the credentials right? Details in the Rigenera log.</source>
            <translation>Some layers could not be loaded ({names}): is the server reachable and are the credentials right? Details in the Rigenera log.</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Rigenera layers loaded.</source>
            <translation>Rigenera layers loaded.</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Import file into the catalogue…</source>
            <translation>Import file into the catalogue…</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Check a layer or a file against a collection (dry run), then import it</source>
            <translation>Check a layer or a file against a collection (dry run), then import it</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>To locate</source>
            <translation>To locate</translation>
        </message>
        <message>
            <location filename="../plugin.py" />
            <source>Projects placed at their comune's point, to draw where they really are</source>
            <translation>Projects placed at their comune's point, to draw where they really are</translation>
        </message>
        <message>
            <location filename="../gui/panel.py" />
            <source>Connect to a Rigenera server first</source>
            <translation>Connect to a Rigenera server first</translation>
        </message>
    </context>
    <context>
        <name>ConflictDialog</name>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Keep mine</source>
            <translation>Keep mine</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Keep theirs</source>
            <translation>Keep theirs</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Merge</source>
            <translation>Merge</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Edit conflict – feature {0}</source>
            <translation>Edit conflict – feature {0}</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>This feature was deleted on the server after your checkout, and you changed it. Keep mine restores it with your version; keep theirs accepts the deletion.</source>
            <translation>This feature was deleted on the server after your checkout, and you changed it. Keep mine restores it with your version; keep theirs accepts the deletion.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>You deleted this feature, and someone else changed it on the server. Keep mine deletes it anyway; keep theirs keeps the server's version.</source>
            <translation>You deleted this feature, and someone else changed it on the server. Keep mine deletes it anyway; keep theirs keeps the server's version.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>On the map: your geometry in blue, the server's in red.</source>
            <translation>On the map: your geometry in blue, the server's in red.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Field</source>
            <translation>Field</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>At checkout</source>
            <translation>At checkout</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Mine</source>
            <translation>Mine</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Theirs (server)</source>
            <translation>Theirs (server)</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Keep</source>
            <translation>Keep</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Geometry</source>
            <translation>Geometry</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>(deleted)</source>
            <translation>(deleted)</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Theirs</source>
            <translation>Theirs</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>A deleted feature cannot be merged field by field</source>
            <translation>A deleted feature cannot be merged field by field</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>{0}, {1} vertices</source>
            <translation>{0}, {1} vertices</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Someone else changed this feature on the server after your checkout (server version {0}). What only one side changed is kept; for the fields changed on both sides (in bold) choose mine or theirs, all at once or field by field.</source>
            <translation>Someone else changed this feature on the server after your checkout (server version {0}). What only one side changed is kept; for the fields changed on both sides (in bold) choose mine or theirs, all at once or field by field.</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Mine for the fields changed on both sides</source>
            <translation>Mine for the fields changed on both sides</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Theirs for the fields changed on both sides</source>
            <translation>Theirs for the fields changed on both sides</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Changed only by you: yours is kept</source>
            <translation>Changed only by you: yours is kept</translation>
        </message>
        <message>
            <location filename="../gui/conflict_dialog.py" />
            <source>Changed only on the server: theirs is kept</source>
            <translation>Changed only on the server: theirs is kept</translation>
        </message>
    </context>
    <context>
        <name>ConflictDialogBase</name>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Rigenera – edit conflict</source>
            <translation>Rigenera – edit conflict</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Someone else changed this feature on the server after your checkout.</source>
            <translation>Someone else changed this feature on the server after your checkout.</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>On the map: your geometry in blue, the server's in red.</source>
            <translation>On the map: your geometry in blue, the server's in red.</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Field</source>
            <translation>Field</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>At checkout</source>
            <translation>At checkout</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Mine</source>
            <translation>Mine</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Theirs (server)</source>
            <translation>Theirs (server)</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Keep</source>
            <translation>Keep</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Keep mine</source>
            <translation>Keep mine</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Keep theirs</source>
            <translation>Keep theirs</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Merge</source>
            <translation>Merge</translation>
        </message>
        <message>
            <location filename="../gui/ui/conflict_dialog.ui" />
            <source>Decide later</source>
            <translation>Decide later</translation>
        </message>
    </context>
    <context>
        <name>ConnectDialog</name>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Rigenera – Connect to the server</source>
            <translation>Rigenera – Connect to the server</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Server address</source>
            <translation>Server address</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>The address of the Rigenera server, without /ogc</source>
            <translation>The address of the Rigenera server, without /ogc</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Credentials</source>
            <translation>Credentials</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>User name and password</source>
            <translation>User name and password</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>User name</source>
            <translation>User name</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Password</source>
            <translation>Password</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>An existing QGIS authentication configuration</source>
            <translation>An existing QGIS authentication configuration</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>The password is kept only in QGIS's encrypted authentication database, never in the project or the settings.</source>
            <translation>The password is kept only in QGIS's encrypted authentication database, never in the project or the settings.</translation>
        </message>
        <message>
            <location filename="../gui/ui/connect_dialog.ui" />
            <source>Test connection</source>
            <translation>Test connection</translation>
        </message>
    </context>
    <context>
        <name>EditingController</name>
        <message>
            <location filename="../gui/editing.py" />
            <source>Connect to a Rigenera server first</source>
            <translation>Connect to a Rigenera server first</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Downloading features…</source>
            <translation>Downloading features…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Writing the working copy…</source>
            <translation>Writing the working copy…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Looking for local changes…</source>
            <translation>Looking for local changes…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Sending the changes…</source>
            <translation>Sending the changes…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Changes accepted by the server</source>
            <translation>Changes accepted by the server</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Updating local versions…</source>
            <translation>Updating local versions…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Receiving changes made by others…</source>
            <translation>Receiving changes made by others…</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Done</source>
            <translation>Done</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Working copies</source>
            <translation>Working copies</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Working copy {0} not reopened: {1}</source>
            <translation>Working copy {0} not reopened: {1}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Select a Rigenera layer to edit</source>
            <translation>Select a Rigenera layer to edit</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The whole collection</source>
            <translation>The whole collection</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The current map extent</source>
            <translation>The current map extent</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>My comuni</source>
            <translation>My comuni</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Edit {0}</source>
            <translation>Edit {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>What to check out for editing:</source>
            <translation>What to check out for editing:</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Your account has no comuni of its own: checking out the whole collection</source>
            <translation>Your account has no comuni of its own: checking out the whole collection</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Checking out {0}</source>
            <translation>Checking out {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Checkout failed: {0}</source>
            <translation>Checkout failed: {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Working copy of {0} ready: {1} features, editable offline</source>
            <translation>Working copy of {0} ready: {1} features, editable offline</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>No working copy to synchronise: use Edit on a Rigenera layer first</source>
            <translation>No working copy to synchronise: use Edit on a Rigenera layer first</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronise</source>
            <translation>Synchronise</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Comment for this change (optional):</source>
            <translation>Comment for this change (optional):</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Edits of {0} could not be saved: {1}</source>
            <translation>Edits of {0} could not be saved: {1}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronising {0}</source>
            <translation>Synchronising {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronisation stopped: your edits are kept in the working copy; synchronise again to resolve the conflicts</source>
            <translation>Synchronisation stopped: your edits are kept in the working copy; synchronise again to resolve the conflicts</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronised: {0} created, {1} changed, {2} deleted; {3} received from others</source>
            <translation>Synchronised: {0} created, {1} changed, {2} deleted; {3} received from others</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>No local changes; {0} received from others</source>
            <translation>No local changes; {0} received from others</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server cannot be reached: your edits are kept in the working copy and will be sent at the next synchronisation ({0})</source>
            <translation>The server cannot be reached: your edits are kept in the working copy and will be sent at the next synchronisation ({0})</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server refused: your role may not make these changes. Your edits are kept in the working copy ({0})</source>
            <translation>The server refused: your role may not make these changes. Your edits are kept in the working copy ({0})</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Conflicts still open: your edits are kept in the working copy</source>
            <translation>Conflicts still open: your edits are kept in the working copy</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Synchronisation failed: {0}</source>
            <translation>Synchronisation failed: {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server refused the changes (nothing was written; your edits are kept, the features are selected): {0}</source>
            <translation>The server refused the changes (nothing was written; your edits are kept, the features are selected): {0}</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Select a feature of a Rigenera layer</source>
            <translation>Select a feature of a Rigenera layer</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Select exactly one feature to see its history</source>
            <translation>Select exactly one feature to see its history</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>This feature is new: it has no history on the server yet</source>
            <translation>This feature is new: it has no history on the server yet</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Version restored on the server (new version {0}); synchronise your working copies to receive it</source>
            <translation>Version restored on the server (new version {0}); synchronise your working copies to receive it</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>The server could not take the changes now, nothing was written: your edits are kept in the working copy; synchronise again in a moment ({0})</source>
            <translation>The server could not take the changes now, nothing was written: your edits are kept in the working copy; synchronise again in a moment ({0})</translation>
        </message>
    </context>
    <context>
        <name>HistoryDialog</name>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>History of {0} {1}</source>
            <translation>History of {0} {1}</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Restore this version</source>
            <translation>Restore this version</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Close</source>
            <translation>Close</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Version</source>
            <translation>Version</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>When</source>
            <translation>When</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Who</source>
            <translation>Who</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Operation</source>
            <translation>Operation</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>What changed</source>
            <translation>What changed</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Comment</source>
            <translation>Comment</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>created</source>
            <translation>created</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>changed</source>
            <translation>changed</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>deleted</source>
            <translation>deleted</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>reviewed</source>
            <translation>reviewed</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>restored</source>
            <translation>restored</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>No history yet</source>
            <translation>No history yet</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>new feature</source>
            <translation>new feature</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>geometry</source>
            <translation>geometry</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Your role ({0}) cannot restore versions</source>
            <translation>Your role ({0}) cannot restore versions</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>This is the current version</source>
            <translation>This is the current version</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Write this version again as a new version</source>
            <translation>Write this version again as a new version</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Write version {0} again as the current version?</source>
            <translation>Write version {0} again as the current version?</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Not restored: {0}</source>
            <translation>Not restored: {0}</translation>
        </message>
        <message>
            <location filename="../gui/history_dialog.py" />
            <source>Version {0} restored as version {1}</source>
            <translation>Version {0} restored as version {1}</translation>
        </message>
    </context>
    <context>
        <name>HistoryDialogBase</name>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Rigenera – feature history</source>
            <translation>Rigenera – feature history</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>History</source>
            <translation>History</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Version</source>
            <translation>Version</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>When</source>
            <translation>When</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Who</source>
            <translation>Who</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Operation</source>
            <translation>Operation</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>What changed</source>
            <translation>What changed</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Comment</source>
            <translation>Comment</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Restore this version</source>
            <translation>Restore this version</translation>
        </message>
        <message>
            <location filename="../gui/ui/history_dialog.ui" />
            <source>Close</source>
            <translation>Close</translation>
        </message>
    </context>
    <context>
        <name>ImportDialog</name>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Import file into the catalogue</source>
            <translation>Import file into the catalogue</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>GIS files</source>
            <translation>GIS files</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Mapping</source>
            <translation>Mapping</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Abandoned sites</source>
            <translation>Abandoned sites</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Projects</source>
            <translation>Projects</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Sustainable mobility network</source>
            <translation>Sustainable mobility network</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Public transport stops</source>
            <translation>Public transport stops</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Row</source>
            <translation>Row</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Field</source>
            <translation>Field</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Reason</source>
            <translation>Reason</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Value</source>
            <translation>Value</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Close</source>
            <translation>Close</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Read</source>
            <translation>Read</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Created</source>
            <translation>Created</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Updated</source>
            <translation>Updated</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Unchanged</source>
            <translation>Unchanged</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Duplicates</source>
            <translation>Duplicates</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Invalid</source>
            <translation>Invalid</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Written</source>
            <translation>Written</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Choose a vector layer</source>
            <translation>Choose a vector layer</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Choose a file</source>
            <translation>Choose a file</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Unexpected error: {0}</source>
            <translation>Unexpected error: {0}</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Checking the file on the server…</source>
            <translation>Checking the file on the server…</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Importing…</source>
            <translation>Importing…</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Run the check (dry run) first</source>
            <translation>Run the check (dry run) first</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Write into {collection}: {created} new, {updated} updated features ({invalid} invalid rows{skipped})?</source>
            <translation>Write into {collection}: {created} new, {updated} updated features ({invalid} invalid rows{skipped})?</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>, skipped</source>
            <translation>, skipped</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Check done, nothing written: {created} would be created, {updated} updated, {unchanged} unchanged, {invalid} invalid of {read} rows.</source>
            <translation>Check done, nothing written: {created} would be created, {updated} updated, {unchanged} unchanged, {invalid} invalid of {read} rows.</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Import done: {created} created, {updated} updated, {unchanged} unchanged, {invalid} invalid rows skipped of {read}.</source>
            <translation>Import done: {created} created, {updated} updated, {unchanged} unchanged, {invalid} invalid rows skipped of {read}.</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Import refused, nothing written: {message}</source>
            <translation>Import refused, nothing written: {message}</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Rejected rows ({shown} of {total})</source>
            <translation>Rejected rows ({shown} of {total})</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Rejected rows</source>
            <translation>Rejected rows</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Save the rejected rows</source>
            <translation>Save the rejected rows</translation>
        </message>
        <message>
            <location filename="../gui/import_dialog.py" />
            <source>Rejected rows saved in {0}</source>
            <translation>Rejected rows saved in {0}</translation>
        </message>
    </context>
    <context>
        <name>ImportDialogBase</name>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Import file into the catalogue</source>
            <translation>Import file into the catalogue</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>What to import</source>
            <translation>What to import</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Layer of the project</source>
            <translation>Layer of the project</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Only the selected features</source>
            <translation>Only the selected features</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>File</source>
            <translation>File</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Layer in the file</source>
            <translation>Layer in the file</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Collection</source>
            <translation>Collection</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Mapping (YAML, optional)</source>
            <translation>Mapping (YAML, optional)</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>CRS of the file</source>
            <translation>CRS of the file</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Skip the invalid rows (write the valid ones)</source>
            <translation>Skip the invalid rows (write the valid ones)</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Check (dry run)</source>
            <translation>Check (dry run)</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Import</source>
            <translation>Import</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Rejected rows</source>
            <translation>Rejected rows</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Row</source>
            <translation>Row</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Field</source>
            <translation>Field</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Reason</source>
            <translation>Reason</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Value</source>
            <translation>Value</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Notes</source>
            <translation>Notes</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Select the rejected features in the layer</source>
            <translation>Select the rejected features in the layer</translation>
        </message>
        <message>
            <location filename="../gui/ui/import_dialog.ui" />
            <source>Save the rejected rows (CSV)…</source>
            <translation>Save the rejected rows (CSV)…</translation>
        </message>
    </context>
    <context>
        <name>NearTransitAlgorithm</name>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Sites near public transport</source>
            <translation>Sites near public transport</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Analysis</source>
            <translation>Analysis</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>transit,metro,tram,bus,railway,station,stop,site,regeneration,distance</source>
            <translation>transit,metro,tram,bus,railway,station,stop,site,regeneration,distance</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Finds the sites (abandoned and underused areas) within the given distance of public transport stops of the chosen modes, with the nearest stop and its distance in metres. The server computes the answer over all its data (PostGIS, geodesic distance). Polygon sites are written to the first output, sites known only by their location (points) to the second.

Comuni: ISTAT codes separated by commas (e.g. 015146 for Milano); empty = all. Modes and states: none selected = all.

Server URL and authentication default to the plugin's saved connection.</source>
            <translation>Finds the sites (abandoned and underused areas) within the given distance of public transport stops of the chosen modes, with the nearest stop and its distance in metres. The server computes the answer over all its data (PostGIS, geodesic distance). Polygon sites are written to the first output, sites known only by their location (points) to the second.

Comuni: ISTAT codes separated by commas (e.g. 015146 for Milano); empty = all. Modes and states: none selected = all.

Server URL and authentication default to the plugin's saved connection.</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Metro</source>
            <translation>Metro</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Railway</source>
            <translation>Railway</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Tram</source>
            <translation>Tram</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Bus</source>
            <translation>Bus</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Abandoned</source>
            <translation>Abandoned</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Underused</source>
            <translation>Underused</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Partly used</source>
            <translation>Partly used</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Regenerated</source>
            <translation>Regenerated</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Distance (metres)</source>
            <translation>Distance (metres)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Public transport modes</source>
            <translation>Public transport modes</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Comuni (ISTAT codes, comma separated; empty = all)</source>
            <translation>Comuni (ISTAT codes, comma separated; empty = all)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Site states (none = all)</source>
            <translation>Site states (none = all)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Rigenera server URL (default: the saved connection)</source>
            <translation>Rigenera server URL (default: the saved connection)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Authentication (default: the saved connection)</source>
            <translation>Authentication (default: the saved connection)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Sites near public transport (points)</source>
            <translation>Sites near public transport (points)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Number of sites</source>
            <translation>Number of sites</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Invalid ISTAT code(s): {0} (six digits, e.g. 015146)</source>
            <translation>Invalid ISTAT code(s): {0} (six digits, e.g. 015146)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>No Rigenera server: connect the plugin first or set the server URL</source>
            <translation>No Rigenera server: connect the plugin first or set the server URL</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Asking {0} for sites within {1} m of {2} stops</source>
            <translation>Asking {0} for sites within {1} m of {2} stops</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>The server refused the request: {0}</source>
            <translation>The server refused the request: {0}</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>Unexpected answer from the server: {0}</source>
            <translation>Unexpected answer from the server: {0}</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>{0} sites known only by their location (points) were not written: the points output is disabled</source>
            <translation>{0} sites known only by their location (points) were not written: the points output is disabled</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>{0} sites found ({1} polygons, {2} points)</source>
            <translation>{0} sites found ({1} polygons, {2} points)</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>{0} — the process is public: it runs without credentials</source>
            <translation>{0} — the process is public: it runs without credentials</translation>
        </message>
        <message>
            <location filename="../processing/near_transit.py" />
            <source>The server cannot be reached: {0}</source>
            <translation>The server cannot be reached: {0}</translation>
        </message>
    </context>
    <context>
        <name>ReviewDock</name>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Rigenera – review</source>
            <translation>Rigenera – review</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Comune</source>
            <translation>Comune</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Features</source>
            <translation>Features</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Waiting for review</source>
            <translation>Waiting for review</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Automatic checks</source>
            <translation>Automatic checks</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Refresh</source>
            <translation>Refresh</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Accept</source>
            <translation>Accept</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Reject</source>
            <translation>Reject</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Comment (required to reject)</source>
            <translation>Comment (required to reject)</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Check</source>
            <translation>Check</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Result</source>
            <translation>Result</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Sites</source>
            <translation>Sites</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Projects</source>
            <translation>Projects</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Your role ({0}) cannot review: volunteers, coordinators and administrators can</source>
            <translation>Your role ({0}) cannot review: volunteers, coordinators and administrators can</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>All comuni</source>
            <translation>All comuni</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Version {0}, changed by {1} on {2}</source>
            <translation>Version {0}, changed by {1} on {2}</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} features waiting for review</source>
            <translation>{0} features waiting for review</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>yes</source>
            <translation>yes</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>no</source>
            <translation>no</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Valid geometry</source>
            <translation>Valid geometry</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Self-intersection</source>
            <translation>Self-intersection</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Area</source>
            <translation>Area</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Thin sliver</source>
            <translation>Thin sliver</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Plausible area (20 m² – 5 km²)</source>
            <translation>Plausible area (20 m² – 5 km²)</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Overlaps other sites</source>
            <translation>Overlaps other sites</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Outside its comune</source>
            <translation>Outside its comune</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} m</source>
            <translation>{0} m</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Select a feature in the queue</source>
            <translation>Select a feature in the queue</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Your role ({0}) cannot review</source>
            <translation>Your role ({0}) cannot review</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Say why in the comment: a rejection needs one</source>
            <translation>Say why in the comment: a rejection needs one</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>Not sent: {0}</source>
            <translation>Not sent: {0}</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} accepted</source>
            <translation>{0} accepted</translation>
        </message>
        <message>
            <location filename="../gui/review_dock.py" />
            <source>{0} rejected</source>
            <translation>{0} rejected</translation>
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
            <translation>Features</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Waiting for review</source>
            <translation>Waiting for review</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Refresh</source>
            <translation>Refresh</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Automatic checks</source>
            <translation>Automatic checks</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Check</source>
            <translation>Check</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Result</source>
            <translation>Result</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Comment (required to reject)</source>
            <translation>Comment (required to reject)</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Accept</source>
            <translation>Accept</translation>
        </message>
        <message>
            <location filename="../gui/ui/review_dock.ui" />
            <source>Reject</source>
            <translation>Reject</translation>
        </message>
    </context>
    <context>
        <name>RigeneraProcessingProvider</name>
        <message>
            <location filename="../processing/provider.py" />
            <source>Rigenera – urban regeneration (Metropolitan City of Milan)</source>
            <translation>Rigenera – urban regeneration (Metropolitan City of Milan)</translation>
        </message>
    </context>
    <context>
        <name>ToLocateDock</name>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Rigenera – to locate</source>
            <translation>Rigenera – to locate</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Projects placed at their comune's point: draw their real point or perimeter.</source>
            <translation>Projects placed at their comune's point: draw their real point or perimeter.</translation>
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
            <translation>Title</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Comuni</source>
            <translation>Comuni</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Refresh</source>
            <translation>Refresh</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Load more</source>
            <translation>Load more</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Zoom</source>
            <translation>Zoom</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Locate</source>
            <translation>Locate</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Use the drawn polygon</source>
            <translation>Use the drawn polygon</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select the project in the working copy and edit its point</source>
            <translation>Select the project in the working copy and edit its point</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Make the polygon selected in the working copy's polygons layer the project's perimeter</source>
            <translation>Make the polygon selected in the working copy's polygons layer the project's perimeter</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Also in comuni that are not yours: a coordinator can locate it</source>
            <translation>Also in comuni that are not yours: a coordinator can locate it</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Whole metropolitan area</source>
            <translation>Whole metropolitan area</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>{shown} of {total} projects to locate</source>
            <translation>{shown} of {total} projects to locate</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>No location for project {0}</source>
            <translation>No location for project {0}</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select a project in the list</source>
            <translation>Select a project in the list</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Project {0} is not in your working copy of the projects</source>
            <translation>Project {0} is not in your working copy of the projects</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Move the point of "{0}" to its real place (or draw its perimeter in the polygons layer, then "Use the drawn polygon"), then synchronise</source>
            <translation>Move the point of "{0}" to its real place (or draw its perimeter in the polygons layer, then "Use the drawn polygon"), then synchronise</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select a project and open its working copy with Locate first</source>
            <translation>Select a project and open its working copy with Locate first</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Select exactly one polygon you drew in "{0}"</source>
            <translation>Select exactly one polygon you drew in "{0}"</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>"{0}" now has the drawn perimeter: synchronise to send it</source>
            <translation>"{0}" now has the drawn perimeter: synchronise to send it</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>On the map, only the projects to locate</source>
            <translation>On the map, only the projects to locate</translation>
        </message>
        <message>
            <location filename="../gui/to_locate_dock.py" />
            <source>Filter the Rigenera projects layers on geom_source = 'comune_point'</source>
            <translation>Filter the Rigenera projects layers on geom_source = 'comune_point'</translation>
        </message>
    </context>
    <context>
        <name>ToLocateDockBase</name>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Projects placed at their comune's point: draw their real point or perimeter.</source>
            <translation>Projects placed at their comune's point: draw their real point or perimeter.</translation>
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
            <translation>Title</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Comuni</source>
            <translation>Comuni</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Refresh</source>
            <translation>Refresh</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Load more</source>
            <translation>Load more</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Zoom</source>
            <translation>Zoom</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Locate</source>
            <translation>Locate</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>Use the drawn polygon</source>
            <translation>Use the drawn polygon</translation>
        </message>
        <message>
            <location filename="../gui/ui/to_locate_dock.ui" />
            <source>On the map, only the projects to locate</source>
            <translation>On the map, only the projects to locate</translation>
        </message>
    </context>
    <context>
        <name>VolunteerGeometryGuard</name>
        <message>
            <location filename="../gui/editing.py" />
            <source>As a volunteer you can review features but not change geometries: geometry edits on {0} will be undone</source>
            <translation>As a volunteer you can review features but not change geometries: geometry edits on {0} will be undone</translation>
        </message>
        <message>
            <location filename="../gui/editing.py" />
            <source>Volunteers cannot change geometries: the edit on {0} was undone. Use the review dock to accept or reject features.</source>
            <translation>Volunteers cannot change geometries: the edit on {0} was undone. Use the review dock to accept or reject features.</translation>
        </message>
    </context>
</TS>
