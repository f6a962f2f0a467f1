"""What is done with a finished run, in one place below the UI: its report gathered and exported, runs compared.
`fl-tui report`/`compare` and the app's Benchmark tab and run picker are thin callers of this package."""
