#!/usr/bin/env bash
# export.sh: regenerate patches/ from the kernel tree's commits (base..HEAD of
# $TREE) and refresh the plain copies of the files the series adds whole
# (mm/, include/, tools/, Documentation/, ...). The same commits always give
# the same bytes: no commit ids, no git version, fixed abbreviation.
# The cover letter comes from the branch description
# (git -C linux branch --edit-description): first paragraph = subject.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$TREE" ] || die "$TREE missing: run 'make tree' first"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	die "$TREE has uncommitted changes; commit them first"
base=$(git -C "$TREE" rev-parse "$(base_rev)^{commit}" 2>/dev/null) ||
	{ [ -n "${KERNEL_TREE:-}" ] || bash "$ROOT/scripts/fetch-base.sh"; base=$(git -C "$TREE" rev-parse "$(base_rev)^{commit}"); }
branch=$(git -C "$TREE" symbolic-ref --short HEAD)
n=$(git -C "$TREE" rev-list --count "$base..HEAD")
[ "$n" -gt 0 ] || die "$TREE has no commits on top of the base"
git -C "$TREE" config "branch.$branch.description" >/dev/null ||
	die "no cover letter: write one with 'git -C linux branch --edit-description' (first paragraph: subject)"

# The cover letter's From: is the committer identity: make it the series'
# author, not whoever runs the export (a CI machine may have none).
GIT_COMMITTER_NAME=$(git -C "$TREE" log -1 --format=%an HEAD)
GIT_COMMITTER_EMAIL=$(git -C "$TREE" log -1 --format=%ae HEAD)
export GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$TREE" -c core.abbrev=12 -c diff.renames=true -c format.signOff=false \
	format-patch -q -o "$tmp" --zero-commit --no-signature --no-thread \
	--cover-letter --cover-from-description=subject --subject-prefix="PATCH v1" \
	--base="$base" "$base..HEAD"
# The cover letter's Date: is the time of the export; pin it to the newest
# commit's author date so that an unchanged tree exports identical bytes.
date=$(git -C "$TREE" log -1 --format=%aD HEAD)
sed -i "s/^Date: .*/Date: $date/" "$tmp/0000-cover-letter.patch"
if grep -q '\*\*\* \(SUBJECT\|BLURB\) HERE \*\*\*' "$tmp/0000-cover-letter.patch"; then
	die "cover letter is a template: fill the branch description"
fi
# The recipients get_maintainer.pl gives for the series, in the cover letter.
bash "$ROOT/scripts/recipients.sh" "$TREE" "$tmp" "$tmp/0000-cover-letter.patch"
mkdir -p "$PATCHES"
rm -f "$PATCHES"/*.patch
cp "$tmp"/*.patch "$PATCHES/"
[ "${EXPORT_COPIES:-1}" = 1 ] || exit 0

# Plain copies of the files the series adds whole.
added=$(git -C "$TREE" diff --name-only --diff-filter=A "$base" HEAD)
for d in mm include tools Documentation lib arch fs; do
	[ -d "$ROOT/$d" ] && find "$ROOT/$d" -type f | while read -r f; do
		rel=${f#"$ROOT"/}
		echo "$added" | grep -qxF "$rel" || rm -f "$f"
	done
	[ -d "$ROOT/$d" ] && find "$ROOT/$d" -type d -empty -delete
done
for f in $added; do
	mkdir -p "$ROOT/$(dirname "$f")"
	cp "$TREE/$f" "$ROOT/$f"
done
log "export: $n patches + cover letter in ${PATCHES#"$ROOT"/}, $(echo "$added" | grep -c . || true) added files copied"
