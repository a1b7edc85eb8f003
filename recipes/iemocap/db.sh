# Sourced by run.sh: where corpora live on this site. Set IEMOCAP in the environment or here (the
# IEMOCAP_full_release folder); run.sh --iemocap_root overrides it for one run.
IEMOCAP=${IEMOCAP:-}
