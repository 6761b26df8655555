# Sourced by run.sh and smoke-test.sh: strict mode, the recipe and repository folders, Debian's python3 with torch
# (the v2 recipe's check), and nice 19 for everything the script starts (RECIPE_NICE overrides).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$here/../sst2-sentiment/check-python.sh"
renice -n "${RECIPE_NICE:-19}" -p $$ > /dev/null
