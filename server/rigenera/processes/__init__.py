"""OGC API Processes: our processors and process manager, loaded by pygeoapi by dotted path."""
