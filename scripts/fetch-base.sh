#!/usr/bin/env bash
# Fetch the pinned base kernel (Debian's linux-source-7.3 binary package)
# through a private apt configuration, and import it into a local git repo
# ($CACHE/linux) with a tag. The system's apt sources are never touched.
# A second run finds the tag and returns at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if git -C "$BASE_REPO" rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null 2>&1; then
	log "base: $BASE_PKG $BASE_VER cached in $BASE_REPO"
	exit 0
fi
need apt-get apt-cache dpkg-deb tar xz git sha256sum

APT=$CACHE/apt
mkdir -p "$APT/sources" "$APT/lists/partial" "$APT/cache/archives/partial"
cat > "$APT/sources/base.sources" <<EOS
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie-backports sid experimental
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
aptopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$APT/sources"
	 -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
	 -o Acquire::Languages=none -o Debug::NoLocking=1)

deb=$CACHE/${BASE_PKG}_${BASE_VER//:/%3a}_all.deb
if ! echo "$BASE_SHA256  $deb" | sha256sum -c --status 2>/dev/null; then
	# apt-get update exits 0 even when an index failed to download: look
	# for the pinned version, and retry the update a few times before
	# concluding that the archive no longer has it.
	found=
	for try in 1 2 3; do
		log "base: updating private apt lists (trixie-backports, sid, experimental)"
		apt-get "${aptopts[@]}" -qq update 2>"$APT/update.err" || true
		if apt-cache "${aptopts[@]}" madison "$BASE_PKG" 2>/dev/null | grep -qF " $BASE_VER "; then
			found=1
			break
		fi
		[ "$try" = 3 ] || sleep $((try * 5))
	done
	if [ -z "$found" ]; then
		names=$(apt-cache "${aptopts[@]}" pkgnames linux-source- 2>/dev/null | grep -E '^linux-source-[0-9.]+$' | sort)
		have=$(for n in $names; do apt-cache "${aptopts[@]}" madison "$n"; done 2>/dev/null |
		       awk -F'|' '{gsub(/ /,"",$1); gsub(/ /,"",$2); printf "%s=%s ", $1, $2}')
		[ -n "$have" ] || die "could not read Debian's package lists: $(grep -m1 -E '^(E|W):' "$APT/update.err" || echo 'no index')"
		die "$BASE_PKG $BASE_VER is no longer in the archive; it has: $have"
	fi
	log "base: downloading $BASE_PKG $BASE_VER"
	(cd "$CACHE" && apt-get "${aptopts[@]}" -qq download "$BASE_PKG=$BASE_VER" 2>&1 |
		grep -v 'unsandboxed as root' >&2 || true)
	echo "$BASE_SHA256  $deb" | sha256sum -c --status ||
		die "$deb: sha256 does not match the pinned $BASE_SHA256"
fi

log "base: extracting the source tarball (about 1.6 GiB)"
tmp=$CACHE/import.tmp
rm -rf "$tmp" "$BASE_REPO"
mkdir -p "$tmp"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/$BASE_PKG.tar.xz"
tar -I 'xz -T2 -d' -xf "$tmp/usr/src/$BASE_PKG.tar.xz" -C "$tmp"
mv "$tmp/$BASE_PKG" "$BASE_REPO"
rm -rf "$tmp"

# Debian's tree ends .gitignore with a section that ignores everything at the
# top level ("/*"): left in, new files of the series would be ignored.
gi=$BASE_REPO/.gitignore
n=$(grep -n '^# Debian packaging: ignore everything at the top level' "$gi" | cut -d: -f1 || true)
[ -n "$n" ] || die "$gi: Debian's top-level ignore section not found; unexpected tree"
head -n $((n - 2)) "$gi" > "$gi.new" && mv "$gi.new" "$gi"

log "base: importing into git (about 1.5 minutes)"
export GIT_AUTHOR_NAME="Debian kernel team" GIT_AUTHOR_EMAIL="debian-kernel@lists.debian.org"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
# Fixed dates: the same package always imports to the same commit id.
export GIT_AUTHOR_DATE="2026-11-15T22:30:00Z" GIT_COMMITTER_DATE="2026-11-15T22:30:00Z"
git -C "$BASE_REPO" init -q -b base
git -C "$BASE_REPO" config gc.auto 0
git -C "$BASE_REPO" add -A
git -C "$BASE_REPO" commit -q -m "Linux 7.3.4 as shipped in Debian $BASE_PKG $BASE_VER" \
	-m "Imported from the binary package's $BASE_PKG.tar.xz, with the Debian section of .gitignore that ignores the whole top level removed."
git -C "$BASE_REPO" tag "$BASE_TAG"
log "base: $BASE_TAG = $(git -C "$BASE_REPO" rev-parse --short=12 HEAD)"
