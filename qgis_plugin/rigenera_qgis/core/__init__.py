"""The plugin's core: API client, credentials, working copies, synchronisation.

Nothing here imports qgis.gui or QtWidgets, so all of it runs headless (tests,
Processing, qgis_process) and the GUI stays a thin layer on top.
"""
