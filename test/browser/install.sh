#!/usr/bin/env bash
# The browser of the plan --html tests (test/report/html.test.ts): Debian's chromium at /usr/bin/chromium,
# driven by playwright-core through its executablePath. Nothing downloads a browser build. CI runs this
# before npm test; without it (and without CI set) the browser tests are skipped with a message.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "chromium: $(/usr/bin/chromium --version)"
