"""What does I/O and keeps time: the trio runner, the Icecast harbor, HTTP probes, the command line."""
