"""The `tether` subcommands, one module each, each with `register(subparsers)`."""
