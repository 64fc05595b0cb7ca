import sys

from colorpast.cli import main

sys.exit(main())
