"""Installing esfs as a system would: meson install, esfs(1), /etc/fstab and mount(8), the
Debian package.

The mounts here run the installed esfs, not build/ or build-asan/: what is under test is
what an administrator gets, started the way mount(8) and systemd start it (the mount
helper, an empty environment, credentials from a file).
"""
import glob
import os
import re
import shutil
import signal
import subprocess

import pytest

from esfs_harness import ROOT, wait_until

PROJECT_VERSION = re.search(r"version\s*:\s*'([^']+)'", open(os.path.join(ROOT, "meson.build")).read()).group(1)

# What systemd gives a mount: no ESFS_USER, no HOME, a PATH of its own.
SYSTEMD_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}

# The options an fstab line for a network mount carries, which are mount(8)'s and
# systemd's, not esfs's: libmount keeps some for the helper (_netdev, nofail, users).
MOUNT_OPTIONS = "_netdev,nofail,noauto,x-systemd.automount,users,defaults"


def run(*cmd, env=None, timeout=300, cwd=None):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


def ok(*cmd, **kw):
    proc = run(*cmd, **kw)
    assert proc.returncode == 0, f"{' '.join(cmd)}: {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def mounted(path):
    with open("/proc/self/mounts") as f:
        return [line.split() for line in f if line.split()[1] == str(path)]


def pids_of(exe):
    """The processes running the program at exe (the esfs daemons a mount left running)."""
    found = []
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            if os.readlink(proc + "/exe") == exe:
                found.append(int(os.path.basename(proc)))
        except OSError:
            pass
    return found


def credentials_file(tmp_path, mode=0o600):
    # The test engines run without security and take any user; esfs still reads and checks
    # the file, as it would for a real cluster.
    path = tmp_path / "test.cred"
    path.write_text("user=esfs-test\npassword=not-a-real-one\n")
    path.chmod(mode)
    return path


def fstab(tmp_path, url, mnt, options):
    path = tmp_path / "fstab"
    path.write_text(f"# esfs test\n{url} {mnt} fuse.esfs {options} 0 0\n")
    return path


# ---------------------------------------------------------------- meson install


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """esfs configured for a prefix of its own, installed once under a DESTDIR and once
    into the prefix itself: (prefix, destdir)."""
    top = tmp_path_factory.mktemp("install")
    prefix, destdir, build = top / "prefix", top / "destdir", top / "build"
    ok("meson", "setup", str(build), ROOT, f"--prefix={prefix}", "-Dbuildtype=release")
    ok("ninja", "-C", str(build), "esfs", "dist/esfs.1")
    ok("meson", "install", "-C", str(build), "--destdir", str(destdir), "--no-rebuild")
    ok("meson", "install", "-C", str(build), "--no-rebuild")
    return prefix, destdir


def installed_files(prefix):
    return {
        "binary": os.path.join(prefix, "bin", "esfs"),
        "page": os.path.join(prefix, "share", "man", "man1", "esfs.1"),
        "helper": os.path.join(prefix, "sbin", "mount.fuse.esfs"),
        "helper's page": os.path.join(prefix, "share", "man", "man8", "mount.fuse.esfs.8"),
        "service": os.path.join(prefix, "lib", "systemd", "system", "esfs@.service"),
        "policy runner": os.path.join(prefix, "sbin", "esfs-policy"),
        "policy service": os.path.join(prefix, "lib", "systemd", "system", "esfs-policy@.service"),
        "policy timer": os.path.join(prefix, "lib", "systemd", "system", "esfs-policy@.timer"),
        "mount unit": os.path.join(prefix, "share", "doc", "esfs", "examples", "mnt-es.mount"),
        "automount unit": os.path.join(prefix, "share", "doc", "esfs", "examples", "mnt-es.automount"),
    }


def test_meson_install_puts_binary_page_helper_and_units_under_destdir_and_prefix(installed):
    prefix, destdir = installed
    for where in (str(destdir) + str(prefix), str(prefix)):
        for what, path in installed_files(where).items():
            assert os.path.isfile(path), f"{what}: no {path}"
        files = installed_files(where)
        for what in ("binary", "helper", "policy runner"):
            assert os.access(files[what], os.X_OK), f"{what} is not executable"
        assert ok(files["binary"], "--version").stdout.startswith(f"esfs {PROJECT_VERSION}\n")
        # The helper and the service name esfs where it runs from, the prefix: never the DESTDIR.
        for what in ("helper", "service"):
            text = open(files[what]).read()
            assert f"{prefix}/bin/esfs" in text, what
            assert str(destdir) not in text, what
        for what in ("policy service",):
            text = open(files[what]).read()
            assert f"{prefix}/sbin/esfs-policy %f" in text, what
            assert str(destdir) not in text, what
    # The developer and test programs beside esfs (sigv4-suite, the unit tests) stay in the build.
    assert os.listdir(os.path.join(prefix, "bin")) == ["esfs"]


def test_the_mount_helper_and_the_policy_runner_are_clean_posix_sh(installed):
    """mount(8) and systemd run them with /bin/sh semantics on every machine: dash on Debian."""
    prefix, _ = installed
    for what in ("helper", "policy runner"):
        script = installed_files(prefix)[what]
        assert open(script).readline() == "#!/bin/sh\n", what
        proc = run("shellcheck", "--shell=sh", "--severity=style", script)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_manual_page_renders_with_no_warnings(installed):
    prefix, _ = installed
    page = installed_files(prefix)["page"]
    proc = run("man", "--warnings", "-l", page, env=dict(os.environ, MANWIDTH="80"))
    assert proc.returncode == 0
    assert proc.stderr == ""
    text = re.sub(".\b", "", proc.stdout)
    for section in ("NAME", "SYNOPSIS", "OPTIONS", "THE TREE", "ERRORS", "EXAMPLES", "ENVIRONMENT",
                    "FILES", "EXIT STATUS", "SEE ALSO"):
        assert re.search(rf"^{section}$", text, re.M), section
    assert f"esfs {PROJECT_VERSION}" in text
    # FILES names the paths of this install.
    assert f"{prefix}/sbin/mount.fuse.esfs" in text


def rendered_page(page):
    """The page as man shows it, one option entry per line, unwrapped."""
    proc = ok("man", "-l", page, env=dict(os.environ, MANWIDTH="1000"))
    return re.sub(".\b", "", proc.stdout)


def page_entries(text):
    """{entry head: its text}: a head is a line indented 7 spaces, its text the lines under it."""
    entries, head = {}, None
    for line in text.splitlines():
        if re.match(r"^ {7}\S", line):
            head = line.strip()
            entries[head] = ""
        elif head is not None and line.startswith(" " * 11):
            entries[head] += " " + line.strip()
    return entries


def help_options(esfs):
    """{section: [(option, default or None)]} from esfs --help: '-o name' and '-x' flags."""
    out = ok(esfs, "--help").stdout
    sections, section = {}, None
    for line in out.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line[:-1]
            sections[section] = []
            continue
        if section is None or not re.match(r"^\s+-", line):
            continue
        names = [f"-o {m.group(1) or ''}{m.group(2)}{m.group(3) or ''}"
                 for m in re.finditer(r"-o (?:\[(no)\])?([a-z0-9_]+)(=)?", line)]
        if "[no]" in line:
            names += [n.replace("-o no", "-o ", 1) for n in names]
        # Flags (-f, --help), not the "-f)" of "(implies -f)".
        names += re.findall(r"(?<!\S)(-[a-np-zA-Z]|--[a-z]+)(?=\s|$)", line)
        default = re.search(r"\(default:? ([^;)]+)", line) or re.search(r"(\S+) \(default\)", line)
        for name in dict.fromkeys(names):
            sections[section].append((name, default.group(1).strip() if default else None))
    return sections


def test_every_option_of_esfs_help_is_in_the_manual_page_with_its_default(installed):
    prefix, _ = installed
    files = installed_files(prefix)
    entries = page_entries(rendered_page(files["page"]))
    options = help_options(files["binary"])
    # The parse found both lists, first to last.
    names = {section: [name for name, _ in listed] for section, listed in options.items()}
    assert {"-o credentials=", "-o aws_service="} <= set(names["esfs options"]), names
    assert {"-h", "--help", "-f", "-o allow_other", "-o auto_unmount"} <= set(names["FUSE options"]), names
    for section, listed in options.items():
        for name, default in listed:
            heads = [h for h in entries if re.search(rf"(^|, ){re.escape(name)}(\b|$)", h)]
            assert heads, f"{section}: {name} is not in the manual page"
            if section != "esfs options":
                continue  # libfuse's defaults are libfuse's; esfs sets its own (the page says which)
            body = entries[heads[0]]
            assert "Default:" in body, f"{name}: the page gives no default"
            if default:
                assert re.search(rf"Default: {re.escape(default)}\b", body), \
                    f"{name}: esfs --help says the default is {default}; the page: {body}"


@pytest.fixture
def private_view(tmp_path):
    """A mount namespace of its own, where a system folder can be shown with entries put in or
    taken out: mount(8) looks for helpers in /sbin (on Debian, /usr/sbin) alone, and
    mount.fuse3's shell finds programs in the standard PATH alone, so this is how a test
    puts an install there without touching the machine's own folders.
    Yields (run a command inside, view(folder, {name: target, or None to hide it}))."""
    holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sleep", "600"])
    # Once it runs sleep, unshare has made every mount private: nothing below reaches the machine.
    assert wait_until(lambda: open(f"/proc/{holder.pid}/comm").read().strip() == "sleep", 10)

    def inside(*cmd, env=None, timeout=60):
        return run("nsenter", "-t", str(holder.pid), "-m", "--", *cmd, env=env, timeout=timeout)

    def view(folder, changes):
        name = folder.strip("/").replace("/", "-")
        copy, real = tmp_path / f"view-{name}", tmp_path / f"real-{name}"
        copy.mkdir()
        real.mkdir()
        # The copy's entries lead to the real ones through a second view of the folder:
        # through the folder itself they would lead back into the copy.
        for entry in os.listdir(folder):
            if entry not in changes:
                os.symlink(real / entry, copy / entry)
        for entry, target in changes.items():
            if target:
                os.symlink(target, copy / entry)
        assert inside("mount", "--bind", folder, str(real)).returncode == 0
        assert inside("mount", "--bind", str(copy), folder).returncode == 0

    yield inside, view
    holder.send_signal(signal.SIGKILL)
    holder.wait()


def mounts_and_unmounts(inside, mount_cmd, mnt, engine, repo, binary):
    """Runs a mount command in the namespace; checks that the installed esfs answers with the
    options it was given (nodelete), then that umount ends it."""
    try:
        proc = inside(*mount_cmd, env=SYSTEMD_ENV)
        assert proc.returncode == 0, proc.stderr
        assert pids_of(binary), f"{binary} is not running"
        listing = inside("ls", str(mnt)).stdout.split()
        assert "_cluster" in listing and "_esfs" in listing and repo in listing, listing
        assert inside("cat", str(mnt / "_cluster" / "health")).stdout.strip() in ("green", "yellow")
        fields = inside("grep", f" {mnt} ", "/proc/self/mounts").stdout.split()
        assert fields[0] == engine.url and fields[2] == "fuse.esfs", fields
        # nodelete got through to esfs: the repository stays.
        refused = inside("rmdir", str(mnt / repo))
        assert refused.returncode != 0 and "Operation not permitted" in refused.stderr
        assert engine.api("GET", f"/_snapshot/{repo}")[0] == 200
        assert inside("umount", str(mnt)).returncode == 0
        assert inside("grep", f" {mnt} ", "/proc/self/mounts").stdout == ""
        assert wait_until(lambda: not pids_of(binary), 20), "esfs did not exit after umount"
    finally:
        inside("umount", "-l", str(mnt))
        for pid in pids_of(binary):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("helper", ["mount.fuse.esfs", "mount.fuse3"])
def test_an_fstab_line_mounts_with_mount_and_unmounts_with_umount(engine, repo, installed, private_view, tmp_path, helper):
    """mount MOUNTPOINT with an fstab line of type fuse.esfs: through esfs's own helper, and,
    where there is none (an install mount(8) cannot see), through libfuse's mount.fuse3,
    which starts the esfs on the standard PATH."""
    prefix, _ = installed
    files = installed_files(prefix)
    inside, view = private_view
    if helper == "mount.fuse.esfs":
        view("/usr/sbin", {"mount.fuse.esfs": files["helper"]})
    else:
        # mount(8) hands its helpers no PATH: mount.fuse3's shell looks in the standard one.
        view("/usr/sbin", {"mount.fuse.esfs": None})
        view("/usr/local/bin", {"esfs": files["binary"]})
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cred = credentials_file(tmp_path)
    table = fstab(tmp_path, engine.url, mnt, f"{MOUNT_OPTIONS},credentials={cred},nodelete,cache_ttl=1")
    mounts_and_unmounts(inside, ["mount", "--fstab", str(table), str(mnt)], mnt, engine, repo, files["binary"])


def test_mount_t_fuse_esfs_mounts_from_the_command_line(engine, repo, installed, private_view, tmp_path):
    prefix, _ = installed
    files = installed_files(prefix)
    inside, view = private_view
    view("/usr/sbin", {"mount.fuse.esfs": files["helper"]})
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cred = credentials_file(tmp_path)
    mounts_and_unmounts(inside, ["mount", "-t", "fuse.esfs", "-o", f"_netdev,nofail,credentials={cred},nodelete",
                                 engine.url, str(mnt)], mnt, engine, repo, files["binary"])


def test_the_helper_hands_esfs_the_credentials_file_it_checks(engine, installed, private_view, tmp_path):
    """The credentials option goes through the helper to esfs: a file others can read is
    refused, by esfs, and nothing is mounted."""
    prefix, _ = installed
    files = installed_files(prefix)
    inside, view = private_view
    view("/usr/sbin", {"mount.fuse.esfs": files["helper"]})
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cred = credentials_file(tmp_path, mode=0o644)
    table = fstab(tmp_path, engine.url, mnt, f"{MOUNT_OPTIONS},credentials={cred}")
    proc = inside("mount", "--fstab", str(table), str(mnt), env=SYSTEMD_ENV)
    assert proc.returncode != 0
    assert "readable by others" in proc.stderr
    assert inside("grep", f" {mnt} ", "/proc/self/mounts").stdout == ""


def test_esfs_itself_still_refuses_options_it_does_not_know(installed, tmp_path):
    """The helper takes mount(8)'s options away; esfs run by hand still says no to them."""
    prefix, _ = installed
    proc = run(installed_files(prefix)["binary"], "-o", "_netdev", "http://127.0.0.1:9", str(tmp_path), timeout=30)
    assert proc.returncode != 0
    assert "unknown option" in proc.stderr and "_netdev" in proc.stderr
    assert not mounted(tmp_path)


# ---------------------------------------------------------------- the Debian package


def test_debian_changelog_has_the_version_of_meson_build():
    version = ok("dpkg-parsechangelog", "-S", "Version", cwd=ROOT).stdout.strip()
    assert version == PROJECT_VERSION


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    """esfs_<version>_amd64.deb built by dpkg-buildpackage from a copy of the tree."""
    top = tmp_path_factory.mktemp("deb")
    src = top / "esfs"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "build", "build-*", "obj-*", "__pycache__", ".pytest_cache"))
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2")
    ok("dpkg-buildpackage", "-b", "-us", "-uc", cwd=src, env=env, timeout=600)
    arch = ok("dpkg", "--print-architecture").stdout.strip()
    path = top / f"esfs_{PROJECT_VERSION}_{arch}.deb"
    assert path.exists(), os.listdir(top)
    return path


PACKAGE_FILES = [
    "/usr/bin/esfs",
    "/usr/sbin/mount.fuse.esfs",
    "/usr/share/man/man1/esfs.1.gz",
    "/usr/share/man/man8/mount.fuse.esfs.8.gz",
    "/usr/lib/systemd/system/esfs@.service",
    "/usr/sbin/esfs-policy",
    "/usr/lib/systemd/system/esfs-policy@.service",
    "/usr/lib/systemd/system/esfs-policy@.timer",
    "/usr/share/doc/esfs/examples/mnt-es.mount",
    "/usr/share/doc/esfs/examples/mnt-es.automount",
]


def package_installed():
    proc = run("dpkg-query", "-W", "-f=${Status}", "esfs")
    return proc.returncode == 0 and "installed" in proc.stdout.split()


def test_the_package_depends_on_its_libraries_and_fuse3(deb):
    depends = [d.strip().split()[0] for d in ok("dpkg-deb", "-f", str(deb), "Depends").stdout.split(",")]
    for package in ("fuse3", "libfuse3-3", "libcurl4", "libcjson1", "libssl3", "libc6"):
        assert package in depends, depends
    assert ok("dpkg-deb", "-f", str(deb), "Version").stdout.strip() == PROJECT_VERSION


def test_the_package_installs_mounts_through_fstab_and_is_removed(engine, repo, deb, tmp_path):
    if package_installed():
        pytest.skip("esfs is installed on this machine already: the test would replace it")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cred = credentials_file(tmp_path)
    table = fstab(tmp_path, engine.url, mnt, f"{MOUNT_OPTIONS},credentials={cred},nodelete")
    try:
        ok("dpkg", "-i", str(deb))
        listed = ok("dpkg", "-L", "esfs").stdout.split("\n")
        for path in PACKAGE_FILES:
            assert path in listed, f"dpkg -L esfs does not list {path}"
            assert os.path.isfile(path), path
        assert ok("man", "-w", "esfs").stdout.strip() == "/usr/share/man/man1/esfs.1.gz"
        assert "mount the snapshot repositories" in ok("man", "mount.fuse.esfs").stdout
        units = tmp_path / "units"
        units.mkdir()
        shutil.copy("/usr/lib/systemd/system/esfs@.service", units / "esfs@mnt-es.service")
        for kind in ("service", "timer"):
            shutil.copy(f"/usr/lib/systemd/system/esfs-policy@.{kind}", units / f"esfs-policy@mnt-es.{kind}")
        for unit in ("mnt-es.mount", "mnt-es.automount"):
            shutil.copy(f"/usr/share/doc/esfs/examples/{unit}", units / unit)
        proc = run("systemd-analyze", "verify", "--man=no", "esfs@mnt-es.service", "mnt-es.mount",
                   "mnt-es.automount", "esfs-policy@mnt-es.service", "esfs-policy@mnt-es.timer",
                   cwd=units, timeout=60)
        assert proc.returncode == 0, proc.stderr

        # mount(8) finds /sbin/mount.fuse.esfs, which starts /usr/bin/esfs.
        mounts_and_unmounts(run, ["mount", "--fstab", str(table), str(mnt)], mnt, engine, repo, "/usr/bin/esfs")
    finally:
        removed = run("dpkg", "--purge", "esfs")
    assert removed.returncode == 0, removed.stderr
    assert not package_installed()
    for path in PACKAGE_FILES:
        assert not os.path.exists(path), f"{path} was left behind"
