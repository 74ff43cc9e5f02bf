#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks packaging/ci/github-workflow.yml as far as can be done without a
GitHub runner (CTest ci_workflows_check): it parses; every job runs in the
Debian 12 container; the gen matrix is exactly shards 1..SHARDS (and
GitLab's `parallel:` is the same N); every step that runs local-run.sh
calls it with the arguments the suite exercises (install, shard K N,
merge), in both workflows."""
import re
import sys

import yaml

src = sys.argv[1]
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


# Steps the suite runs: gitlab_ci_test (install with BTFPACK_INSTALL=skip,
# shard K N, merge) and ci_local_test (shard K N, merge, single).
ALLOWED = [
    r'^bash "\$LOCAL_RUN" install$',
    r'^bash "\$LOCAL_RUN" shard \$\{\{ matrix\.shard \}\} "\$SHARDS"$',
    r'^bash "\$LOCAL_RUN" shard "\$CI_NODE_INDEX" "\$CI_NODE_TOTAL"$',
    r'^bash "\$LOCAL_RUN" merge$',
    r'^bash "\$LOCAL_RUN" scheduled$',
]


def check_calls(where, script):
    for line in script.splitlines():
        line = line.split("#")[0].strip()
        if "LOCAL_RUN" in line or "local-run.sh" in line:
            check(any(re.match(p, line) for p in ALLOWED),
                  f"{where}: '{line}' is not a local-run.sh call the suite runs")


gh = load(f"{src}/packaging/ci/github-workflow.yml")
shards = int(gh["env"]["SHARDS"])
check(gh["env"]["LOCAL_RUN"] == "ci/local-run.sh", "LOCAL_RUN")
calls = 0
for name, job in gh["jobs"].items():
    c = job.get("container")
    image = c.get("image") if isinstance(c, dict) else c
    check(image == "debian:12", f"job {name}: container is {image!r}, not debian:12")
    for step in job["steps"]:
        run = step.get("run", "")
        calls += "LOCAL_RUN" in run
        check_calls(f"github job {name}", run)
        check("sudo " not in run, f"job {name}: sudo in a root container")
matrix = gh["jobs"]["gen"]["strategy"]["matrix"]["shard"]
check(matrix == list(range(1, shards + 1)),
      f"gen matrix {matrix} is not shards 1..SHARDS={shards}")
check(calls >= 4, f"only {calls} steps call local-run.sh")

gl = load(f"{src}/packaging/ci/gitlab-ci.yml")
check(gl["default"]["image"] == "debian:12", "gitlab default image")
check(gl["gen"]["parallel"] == shards,
      f"gitlab gen parallel {gl['gen']['parallel']} != GitHub SHARDS {shards}")
for name, job in gl.items():
    if not isinstance(job, dict) or name in ("default", "variables"):
        continue
    check("image" not in job or name == "publish",
          f"gitlab job {name} overrides the debian:12 image")
    for key in ("before_script", "script"):
        for line in job.get(key, []):
            check_calls(f"gitlab job {name}", line)

# The scheduled job (gitlab_ci_test runs GitLab's twice): only on a
# schedule, while the release jobs do not run then.
on = gh.get("on", gh.get(True))
check(isinstance(on, dict) and on.get("schedule"), "github: no schedule trigger")
sj = gh["jobs"].get("scheduled", {})
check(sj.get("if") == "github.event_name == 'schedule'",
      "github job scheduled: not limited to schedules")
check(gh["jobs"]["gen"].get("if") == "github.event_name != 'schedule'",
      "github job gen runs on schedules")
check(any('"$LOCAL_RUN" scheduled' in st.get("run", "") for st in sj.get("steps", [])),
      "github job scheduled does not run local-run.sh scheduled")
gls = gl.get("scheduled", {})
check(gls.get("rules") == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}],
      "gitlab job scheduled: not limited to schedules")
for name in ("gen", "bundle"):
    check(gl[name].get("rules") == [{"if": '$CI_PIPELINE_SOURCE != "schedule"'}],
          f"gitlab job {name} runs on schedules")

if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)
print(f"workflows ok: {len(gh['jobs'])} GitHub jobs in debian:12, "
      f"matrix 1..{shards}, GitLab parallel {shards}")
