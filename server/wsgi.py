"""The WSGI entry point gunicorn serves: `gunicorn server.wsgi:app`."""

import sys

from server.app import create_app

# A thread that waits for the GIL (an SOS arriving while bulk pushes compute) gets it after 1 ms
# rather than 5: small requests keep their latency beside CPU-heavy ones in the same process.
sys.setswitchinterval(0.001)

app = create_app()
