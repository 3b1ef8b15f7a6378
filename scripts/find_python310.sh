#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs Python < 3.11).
set -u
is_310() { "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }
candidates=("${KEFU_PYTHON:-}" python3.10)
if command -v pyenv >/dev/null 2>&1; then
  candidates+=("$(pyenv root)"/versions/3.10*/bin/python3.10)
fi
candidates+=("$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10)
for candidate in "${candidates[@]}"; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if is_310 "$path"; then echo "$path"; exit 0; fi
done
cat >&2 <<'MSG'
kefu needs Python 3.10 (Rasa 3.6 supports Python < 3.11), and none was found.
Install one of:
  pyenv install 3.10.13                      # then run make again
  apt-get install python3.10 python3.10-venv # on Debian/Ubuntu with 3.10 packages
or point KEFU_PYTHON at a Python 3.10 interpreter.
MSG
exit 1
