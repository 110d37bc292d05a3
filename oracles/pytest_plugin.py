"""pytest plugin for manualbp (registered through the ``pytest11`` entry point)."""
