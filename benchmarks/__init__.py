"""prunebench's asv suite (asv imports the installed prunebench; no harness logic here).

asv runs it with ``launch_method: forkserver`` (asv.conf.json): one server process imports
this package, then forks a process per benchmark. In that server only, TensorFlow is
loaded here, once, with the Keras tfmot uses: every benchmark process then starts with it
instead of importing it again (~3-5 s each). Discovery (``asv check``, ``asv run``'s
listing) runs in other processes and imports nothing heavy.
"""

import sys

#: asv_runner's fork server is started as ``<script> run_server <dir> <socket>``.
if "run_server" in sys.argv[1:2]:
    from prunebench import kerasenv

    kerasenv.keras()
