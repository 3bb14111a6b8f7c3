#!/usr/bin/env bash
# Install time of the TF 2.21 environment as `make install` does it: pip, then uv (cold, warm).
cd "$(dirname "$0")/.."
UV=${UV:-uv}
rm -rf /tmp/inst-pip /tmp/inst-uv1 /tmp/inst-uv2; $UV cache clean >/dev/null 2>&1  # uv: a cold cache first
s=$(date +%s.%N)
python3.11 -m venv /tmp/inst-pip && /tmp/inst-pip/bin/python -m pip install --quiet --upgrade pip && /tmp/inst-pip/bin/python -m pip install --quiet -r requirements/tf2.21.txt -e '.[test,dev]' && /tmp/inst-pip/bin/python -m pip install --quiet --no-deps -e examples/prunebench-example-task
e=$(date +%s.%N); echo "pip: $(echo "$e - $s" | bc) s"
for n in 1 2; do
  s=$(date +%s.%N)
  $UV venv --quiet --seed --allow-existing --python python3.11 /tmp/inst-uv$n && VIRTUAL_ENV=/tmp/inst-uv$n $UV pip install --quiet -r requirements/tf2.21.txt -e '.[test,dev]' && VIRTUAL_ENV=/tmp/inst-uv$n $UV pip install --quiet --no-deps -e examples/prunebench-example-task
  e=$(date +%s.%N); echo "uv ($([ $n = 1 ] && echo cold || echo warm) cache): $(echo "$e - $s" | bc) s"
done
/tmp/inst-pip/bin/python -m pip freeze --exclude-editable | sort > /tmp/freeze-pip.txt
/tmp/inst-uv1/bin/python -m pip freeze --exclude-editable | sort > /tmp/freeze-uv.txt
echo "packages: pip $(wc -l < /tmp/freeze-pip.txt), uv $(wc -l < /tmp/freeze-uv.txt)"
diff /tmp/freeze-pip.txt /tmp/freeze-uv.txt && echo "same versions"
