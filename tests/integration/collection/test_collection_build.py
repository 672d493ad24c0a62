"""The collection as users get it: `ansible-galaxy collection build` succeeds, the artifact holds what the
collection needs and nothing private, it installs offline next to its dependencies (the collections of the
pinned `ansible` wheel, no Galaxy), and the INSTALLED copy runs: `ansible-doc` documents every module and every
role, a playbook uses a module, a filter and a role from it, and the collection's own site playbook parses.

Everything runs in a temporary directory with the repository's ansible.cfg out of the way, so nothing resolves
monsterr.mediaserver through the checkout's collections/ link."""

import glob
import json
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEPENDENCIES = os.path.join(ROOT, ".cache", "collections")
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
                 if not os.path.basename(p).startswith("_"))
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))
BIN = os.path.dirname(os.path.realpath(os.path.join(ROOT, ".venv", "bin", "python")))


def run(args, cwd, env=None, check=True):
    """Run an ansible-* program from the project's venv in cwd, with only the given environment on top."""
    full = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_CONFIG="",
                PATH=os.path.join(ROOT, ".venv", "bin") + os.pathsep + os.environ.get("PATH", ""))
    full.update(env or {})
    proc = subprocess.run(args, cwd=cwd, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    if check:
        assert proc.returncode == 0, "%s failed (%s):\n%s\n%s" % (args, proc.returncode, proc.stdout[-3000:],
                                                                   proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    proc = run(["ansible-galaxy", "collection", "build", "--output-path", str(out), ROOT], cwd=str(out))
    galaxy = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))
    path = out / ("monsterr-mediaserver-%s.tar.gz" % galaxy["version"])
    assert path.is_file(), proc.stdout
    return path


@pytest.fixture(scope="module")
def installed(artifact, tmp_path_factory):
    """(workdir, env) where monsterr.mediaserver comes from the installed artifact only."""
    if not os.path.isdir(os.path.join(DEPENDENCIES, "ansible_collections", "community", "docker")):
        pytest.fail("%s lacks the dependency collections: run `make setup` first" % DEPENDENCIES)
    work = tmp_path_factory.mktemp("installed")
    target = work / "collections"
    env = {"ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (target, DEPENDENCIES), "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
           "ANSIBLE_HOME": str(work / "home")}
    # --offline: no Galaxy server is asked; the dependencies must be found already installed.
    proc = run(["ansible-galaxy", "collection", "install", str(artifact), "-p", str(target), "--offline"],
               cwd=str(work), env=env)
    assert "monsterr.mediaserver:" in proc.stdout and "was installed successfully" in proc.stdout, proc.stdout
    for dependency in ("community.docker", "community.general", "ansible.posix"):
        assert "'%s:" % dependency in proc.stdout, proc.stdout     # found installed, not fetched
    return work, env


def test_artifact_holds_the_collection_and_nothing_private(artifact):
    with tarfile.open(str(artifact)) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"]) == ("monsterr", "mediaserver")
    assert set(info["dependencies"]) == {"community.docker", "community.general", "ansible.posix"}
    for module in MODULES:
        assert "plugins/modules/%s.py" % module in names
    for role in ROLES:
        assert "roles/%s/meta/argument_specs.yml" % role in names
        assert "roles/%s/tasks/main.yml" % role in names
    for needed in ("meta/runtime.yml", "playbooks/site.yml", "plugins/module_utils/_http.py",
                   "plugins/lookup/household_secret.py", "roles/catalog/services/sonarr.yml", "README.md"):
        assert needed in names
    private = [n for n in names if n.split("/")[0] in (".cache", ".venv", ".git", "collections", "molecule", ".ci")
               or "/secrets/" in n or "/stage/" in n or "__pycache__" in n or n.endswith((".tar", ".tar.gz"))]
    assert private == []


def test_installed_modules_are_documented(installed):
    work, env = installed
    listed = run(["ansible-doc", "--list", "--json", "monsterr.mediaserver"], cwd=str(work), env=env)
    assert sorted(n.split(".")[-1] for n in json.loads(listed.stdout)) == MODULES
    docs = json.loads(run(["ansible-doc", "--json"] + ["monsterr.mediaserver." + m for m in MODULES],
                          cwd=str(work), env=env).stdout)
    assert sorted(docs) == ["monsterr.mediaserver." + m for m in MODULES]
    for name, doc in docs.items():
        assert doc["doc"]["short_description"], name
        assert doc["doc"]["options"], name
        assert doc["examples"].strip(), name
        assert doc["return"], name
        # Every module runs in check mode (the collection's attributes fragment says so).
        assert doc["doc"]["attributes"]["check_mode"]["support"] == "full", name


@pytest.mark.parametrize("role", ROLES)
def test_installed_roles_are_documented(installed, role):
    work, env = installed
    doc = json.loads(run(["ansible-doc", "-t", "role", "--json", "monsterr.mediaserver." + role],
                         cwd=str(work), env=env).stdout)["monsterr.mediaserver." + role]
    main = doc["entry_points"]["main"]
    assert main["short_description"]
    undocumented = [k for k, v in (main.get("options") or {}).items() if not v.get("description")]
    assert undocumented == []
    # Every default the role ships is in its argument spec (and so in ansible-doc).
    defaults = yaml.safe_load(open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"))) or {}
    assert sorted(set(defaults) - set(main.get("options") or {})) == []


PLAYBOOK = """
- name: Use the installed collection
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    household_domain: media.example.org
    household_acme_email: admin@example.org
    catalog_enabled: [sonarr, qbittorrent, redis]
  tasks:
    - name: A module and its shared module_utils
      monsterr.mediaserver.directories:
        paths: ["{{ playbook_dir }}/appdata/sonarr", "{{ playbook_dir }}/appdata/qbittorrent"]
        mode: "0750"
      register: dirs

    - name: A role (the catalog resolves the household's services with the collection's filters)
      ansible.builtin.include_role:
        name: monsterr.mediaserver.catalog

    - name: Show what ran
      ansible.builtin.debug:
        msg: "RESULT {{ {'dirs': dirs.changed, 'services': catalog_resolved | map(attribute='name') | sort,
               'sonarr': (catalog_resolved | selectattr('name', 'eq', 'sonarr') | first).internal_url} | to_json }}"
"""


def test_installed_collection_runs(installed):
    work, env = installed
    (work / "use.yml").write_text(PLAYBOOK)
    results = []
    for _ in range(2):
        proc = run(["ansible-playbook", "-i", "localhost,", "-e", "ansible_python_interpreter=" + sys.executable,
                     "use.yml"], cwd=str(work), env=env)
        line = [ln for ln in proc.stdout.splitlines() if "RESULT " in ln]
        assert line, proc.stdout[-3000:]
        results.append(json.loads(line[0].split("RESULT ", 1)[1].rstrip('"').replace('\\"', '"')))
    print(results)
    assert results[0]["dirs"] is True and results[1]["dirs"] is False
    assert results[0]["services"] == ["qbittorrent", "redis", "sonarr"]
    assert results[0]["sonarr"] == "http://sonarr:8989"
    assert (work / "appdata" / "sonarr").is_dir()


def test_installed_site_playbook_parses_with_the_example_inventory(installed):
    work, env = installed
    inventory = os.path.join(str(work), "collections", "ansible_collections", "monsterr", "mediaserver",
                             "inventories", "example")
    proc = run(["ansible-playbook", "-i", inventory, "monsterr.mediaserver.site", "--syntax-check"],
               cwd=str(work), env=env)
    assert "playbook: " in proc.stdout
