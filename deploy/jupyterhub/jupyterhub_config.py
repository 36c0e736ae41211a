"""JupyterHub for a class on one server: every student gets the suite's kernel and a copy of the student edition.

    make student                                            # build/student/, the notebooks each student starts from
    .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

`make hub-check` starts this hub on loopback with three students and runs notebooks 05 and 03 through it
(tests/test_hub.py). The lines marked LOCAL TEST are what a real class server changes; README.md says how.
"""

import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub defines get_config when it reads this file)

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENT = Path(sys.prefix)  # the suite's environment (.venv, or a conda env): the hub, each server, each kernel
# The hub's database, secrets and the students' folders: outside build/, which `make clean` deletes.
STATE = Path(os.environ.get("TL_HUB_DIR", Path.home() / "transfer-lab-hub"))
STUDENT_EDITION = Path(os.environ.get("TL_HUB_NOTEBOOKS", REPO / "build" / "student"))  # `make student` writes it
CLASS = os.environ.get("TL_HUB_USERS", "student1 student2 student3").split()
PROXY = REPO / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"  # `make hub-check` installs it

# --- where the hub listens and keeps its state ---------------------------------------------------------------
STATE.mkdir(parents=True, exist_ok=True)
c.JupyterHub.bind_url = "http://127.0.0.1:8000"  # LOCAL TEST: a class server listens on its name, behind HTTPS
c.JupyterHub.hub_bind_url = "http://127.0.0.1:8081"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"
c.ConfigurableHTTPProxy.command = [str(PROXY) if PROXY.exists() else "configurable-http-proxy"]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# --- who logs in ---------------------------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "dummy"  # LOCAL TEST: any password; a class uses the school's logins
c.Authenticator.allowed_users = set(CLASS)

# --- each student's server -----------------------------------------------------------------------------------
# LOCAL TEST: every server runs as the hub's own Unix user, with nothing enforced between them (README.md).
c.JupyterHub.spawner_class = "simple"
HOME = str(STATE / "home" / "{username}")
c.SimpleLocalProcessSpawner.home_dir_template = HOME
c.Spawner.notebook_dir = HOME
c.Spawner.cmd = [str(ENVIRONMENT / "bin" / "jupyterhub-singleuser")]  # JupyterLab and ipykernel of the suite
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120  # a first import of torch on a busy server takes a while
c.Spawner.args = [
    "--LabApp.news_url=",  # no news feed: nothing asks the network from a class's browser
    "--MappingKernelManager.cull_idle_timeout=1800",  # a kernel left idle 30 minutes gives its memory back
    "--MappingKernelManager.cull_interval=300",
]
if os.geteuid() == 0:  # LOCAL TEST: a container that runs everything as root; a class server never does
    c.Spawner.args.append("--allow-root")
# A rehearsal hub at smoke settings (`TL_SMOKE=1 jupyterhub ...`) passes the suite's variables on to every kernel.
c.LocalProcessSpawner.env_keep.extend(["TL_SMOKE", "TL_THREADS", "TL_DATA_DIR", "TL_DEVICE"])

# Each kernel's share of the machine. JupyterHub sets CPU_LIMIT and MEM_LIMIT in the server's environment;
# helpers.train.available_cores reads CPU_LIMIT, so a kernel takes one thread per core it is given, not one per
# core of the machine. LOCAL TEST: only SystemdSpawner, DockerSpawner and KubeSpawner enforce these (README.md).
c.Spawner.cpu_limit = 1.0  # cores per student: the server's cores / the students working at once
c.Spawner.mem_limit = "3G"  # the largest kernel peak measured is 1.6 GB (08; instructor guide, "Sizing"): room to spare


def copy_student_edition(spawner) -> None:
    """Copy the student edition into the student's folder: each notebook once, so their own work is never replaced."""
    if not any(STUDENT_EDITION.glob("*.ipynb")):
        raise RuntimeError(f"No notebooks in {STUDENT_EDITION} to give {spawner.user.name}: run `make student` first.")
    home = Path(spawner.format_string(HOME))
    home.mkdir(parents=True, exist_ok=True)
    for notebook in sorted(STUDENT_EDITION.glob("*.ipynb")):
        if not (home / notebook.name).exists():
            shutil.copy2(notebook, home / notebook.name)


c.Spawner.pre_spawn_hook = copy_student_edition

# --- idle culling --------------------------------------------------------------------------------------------
# A server nobody has used for an hour stops (its files stay), so a class of 30 does not hold 30 kernels all day.
c.JupyterHub.services = [
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]},
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
]
