if [ -n "$WO_DSA" ]; then printf '%s\n' "$WO_DSA"; else echo "dsa_query: not available"; fi
