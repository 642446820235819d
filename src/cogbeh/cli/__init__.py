"""Command-line interface: argument parsing and printing only; logic lives in library modules."""
