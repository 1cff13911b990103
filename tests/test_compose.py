"""docker-compose.yml describes the scaled-out shape: PostgreSQL, Redis, migrations run
once, two API replicas behind one port, and the engine's worker. (It was also checked with
`docker-compose config` 1.29.2; this machine's docker has no compose plugin, so the test
checks the file's structure itself, and runs `docker compose config` when it can.)"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else list(command)


def test_every_part_of_the_scaled_out_shape_is_there() -> None:
    services = _compose()["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert _command(services["migrate"]) == ["seqgql", "migrate"]
    assert _command(services["worker"]) == ["seqgql", "worker"]
    replicas = [name for name in services if re.fullmatch(r"api\d+", name)]
    assert len(replicas) >= 2
    for name in [*replicas, "worker"]:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["BROADCAST_URL"].startswith("redis://")
        assert env["AUTO_MIGRATE"] == "false"  # migrations run once, in `migrate`
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    # one port in front of every replica
    proxy = services["proxy"]
    assert proxy["ports"] == ["8000:8000"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert sorted(re.findall(r"server (api\d+):8000;", nginx)) == sorted(replicas)


def test_dependencies_name_existing_services_and_files_exist() -> None:
    compose = _compose()
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on", [])
        for target in depends:
            assert target in services, f"{name} depends on unknown service {target}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose.get("volumes", {}), f"{name}: unknown volume {source}"
        if service.get("build"):
            assert (ROOT / service["build"] / "Dockerfile").exists()
    _compose_cli_accepts_the_file()


def _compose_cli_accepts_the_file() -> None:
    """With a compose CLI on this machine, it must accept the file too."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True)
        if probe.returncode != 0:
            continue
        result = subprocess.run(
            [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return
