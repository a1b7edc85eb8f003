# Sourced by run.sh: where this corpus lives on this site (edit, or export the variables).
# CORPUS_AUDIO: the folder of wavs; CORPUS_LABELS: the label CSV
# (FileName,label[,speaker,split,arousal,valence,dominance], FileName relative to CORPUS_AUDIO).
CORPUS_AUDIO=${CORPUS_AUDIO:-}
CORPUS_LABELS=${CORPUS_LABELS:-}
