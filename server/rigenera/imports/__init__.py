"""The import engine (issue 10): every file and built-in source enters through here.

files.py (file safety: open_source, FileLimits, gdal_errors) is the first module;
the engine (frame, read_file, import_frame, run_import) lives next to it.
"""
