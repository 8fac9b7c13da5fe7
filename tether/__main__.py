"""`python -m tether` runs the same command as the `tether` script."""

from tether.cli import main

raise SystemExit(main())
