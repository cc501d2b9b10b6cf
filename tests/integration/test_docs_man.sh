#!/usr/bin/env bash
# test_docs_man.sh — every man page (man/*.[0-9]) renders without a warning
# and without a request leaking into the text. Needs only groff (groff-base);
# no test server, no man-db database, no installed package. Checks, per page:
#   - `groff -man -ww -z` (all warnings, PostScript device) prints nothing;
#   - the terminal rendering at 80 columns (what man(1) shows on a pipe or
#     an 80-column terminal: line length 78n) prints no warning either;
#   - with mandoc installed, `mandoc -Tlint -Wwarning` finds nothing;
#   - the rendered text holds no macro name glued to a word (".BR gid= ."
#     once rendered as "gid=.Anexport..."), and each SYNOPSIS line of
#     unifs(1) shows one command (two on one line: a missing .br).
# Exit 0 (PASS), 1 (FAIL: the page and groff's message), 77 (SKIP: no groff;
# in CI, CI=true, a missing groff is a failure).
set -uo pipefail
UFS_SRC=${UFS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
name=test_docs_man
fails=0

problem()
{
	echo "FAIL: $name: $*"
	fails=$((fails + 1))
}

if ! command -v groff >/dev/null; then
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: $name: groff is not installed (scripts/setup.sh installs groff-base)"
		exit 1
	fi
	echo "SKIP: $name: groff is not installed"
	exit 77
fi

shopt -s nullglob
pages=("$UFS_SRC"/man/*.[0-9])
((${#pages[@]})) || {
	echo "FAIL: $name: no man pages under $UFS_SRC/man"
	exit 1
}

for page in "${pages[@]}"; do
	base=${page##*/}
	out=$(groff -man -ww -z "$page" 2>&1)
	[[ -z $out ]] || problem "$base: groff -man -ww -z: $out"
	out=$(groff -man -Tutf8 -ww -z -rLL=78n -rLT=78n "$page" 2>&1)
	[[ -z $out ]] || problem "$base: at 80 columns: $out"
	if command -v mandoc >/dev/null; then
		out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
		[[ -z $out ]] || problem "$base: mandoc -Tlint: $out"
	fi
	text=$(groff -man -Tutf8 -rLL=78n -rLT=78n -P-cbou "$page" 2>/dev/null)
	[[ -n $text ]] || problem "$base: renders to nothing"
	glued=$(grep -nE '[[:alnum:]=]\.(B|I|BR|BI|IB|IR|RB|RI|TP|IP|PP|SH|SS|RS|RE|br|An)[[:lower:]]' <<<"$text" | head -3)
	[[ -z $glued ]] || problem "$base: a request rendered as text: $glued"
	if [[ $base == unifs.1 ]]; then
		two=$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' <<<"$text" | grep -E 'unifs .*[^-]unifs ' | head -3)
		[[ -z $two ]] || problem "$base: two commands on one SYNOPSIS line: $two"
	fi
done

((fails == 0)) || exit 1
echo "PASS: $name (${#pages[@]} pages)"
exit 0
