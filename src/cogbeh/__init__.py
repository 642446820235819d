"""cogbeh-gen: priming data of Countdown reasoning traces that show chosen cognitive behaviors."""

__version__ = "0.1.0"
