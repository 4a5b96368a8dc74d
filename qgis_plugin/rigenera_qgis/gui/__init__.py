"""The plugin's user interface: dialogs, docks and the editing controller.

Everything that imports QtWidgets or qgis.gui lives here; ``core`` never does.
"""
