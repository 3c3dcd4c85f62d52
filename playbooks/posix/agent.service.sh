echo "tool=none"
echo "state=unknown"
