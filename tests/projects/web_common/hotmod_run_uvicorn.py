import sys
from hotmod.cli import main

sys.exit(main(["run", "-m", "uvicorn", "devapp:app", "--port", "0", "--log-level", "info"]))
