if ($WO_DSA) { $WO_DSA } else { 'dsa_query: not available' }
