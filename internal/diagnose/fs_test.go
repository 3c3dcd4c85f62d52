package diagnose

import (
	"io/fs"

	"github.com/whyoffline/whyoffline/playbooks"
)

func playbooksFS() fs.FS { return playbooks.FS }
