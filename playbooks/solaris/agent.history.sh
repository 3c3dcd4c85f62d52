# pkg history -l lists the complete FMRIs an operation changed and
# the command line (which often names the .p5p file and its build).
if wo_have pkg; then
  echo "source=pkg history"
  $wo_T 40 pkg history -l 2>/dev/null </dev/null | grep -i 'ds[-_]agent' | head -n 400 |
    sed -n -e 's/.*ds[-_]agent@\([0-9][0-9.]*\).*/history=\1/p' \
           -e 's/.*[Aa]gent-[A-Za-z_]*[0-9.]*-\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*-[0-9][0-9]*\).*/history=\1/p' |
    sort -u | head -n 20
else
  echo "source=none"
fi
