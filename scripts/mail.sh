#!/usr/bin/env bash
# mail.sh [OUTDIR]: write the series as mails (default out/mail/): your
# Signed-off-by added from your git identity, threaded, To/Cc from the tree's
# scripts/get_maintainer.pl. Nothing is sent: use git send-email or b4 on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$ROOT/out/mail}
tree=$(bash "$ROOT/scripts/tree.sh" series)
base=$(git -C "$tree" rev-parse "$(base_rev)^{commit}")
ident=$(git -C "$tree" var GIT_COMMITTER_IDENT 2>/dev/null | sed 's/>.*/>/') ||
	die "no git identity: set user.name and user.email, they become your Signed-off-by"
rm -rf "$out" && mkdir -p "$out"
git -C "$tree" -c core.abbrev=12 format-patch -q -o "$out" --signoff --thread=shallow \
	--no-signature --cover-letter --cover-from-description=subject \
	--subject-prefix="PATCH v1" --base="$base" "$base..HEAD"
# To/Cc: the cover letter has them from export; add them to every mail.
[ -n "${MAIL_NO_RECIPIENTS:-}" ] || bash "$ROOT/scripts/recipients.sh" "$tree" "$out" "$out"/*.patch
log "mail: $(ls "$out" | wc -l) mails in $out, signed off by $ident"
