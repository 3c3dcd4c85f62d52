echo "cpus=`getconf _NPROCESSORS_ONLN 2>/dev/null`"
