from hotmod.cli import main

raise SystemExit(main())
