# Sourced by run.sh: where corpora live on this site. Set MSP_PODCAST in the environment or here;
# run.sh --msp_root overrides it for one run.
MSP_PODCAST=${MSP_PODCAST:-}
