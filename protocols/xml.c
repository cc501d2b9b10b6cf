/*
 * xml.c — ufs_xml_parse() over expat; see xml.h.
 *
 * State: the slash-joined path of open elements (path, a growable string)
 * and the character data seen so far (text). When an element opens, the
 * current lengths of both are pushed on a stack; when it closes, the text
 * since its push is its own character data (children's text was cut off when
 * they closed), reported to on_end, and both strings are cut back.
 * Invariant: depth == number of open elements == entries in mark[].
 */
#include "protocols/xml.h"

#include <errno.h>
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

struct xml_mark {
	size_t path_len;
	size_t text_len;
};

struct xml_state {
	XML_Parser parser;
	ufs_xml_cb on_start;
	ufs_xml_cb on_end;
	void *arg;
	struct ufs_strbuf path;
	struct ufs_strbuf text;
	struct xml_mark *mark;
	size_t depth;
	size_t mark_cap;
	int stop; /* callback's non-zero value, or -ENOMEM */
};

/* Append to a growing string (common/strbuf.h); 0 or -ENOMEM. */
static int xml_str_append(struct ufs_strbuf *str, const char *s, size_t len)
{
	ufs_sb_append(str, s, len);
	return str->oom ? -ENOMEM : 0;
}

static void xml_halt(struct xml_state *st, int rc)
{
	st->stop = rc;
	XML_StopParser(st->parser, XML_FALSE);
}

static int xml_push(struct xml_state *st)
{
	if (st->depth == st->mark_cap) {
		size_t cap = st->mark_cap ? st->mark_cap * 2 : 16;
		struct xml_mark *n = realloc(st->mark, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->mark = n;
		st->mark_cap = cap;
	}
	st->mark[st->depth].path_len = st->path.len;
	st->mark[st->depth].text_len = st->text.len;
	st->depth++;
	return 0;
}

static void XMLCALL xml_on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_state *st = data;
	int rc;

	(void)attrs;
	if (st->stop)
		return;
	rc = xml_push(st);
	if (!rc && st->depth > 1)
		rc = xml_str_append(&st->path, "/", 1);
	if (!rc)
		rc = xml_str_append(&st->path, name, strlen(name));
	if (rc) {
		xml_halt(st, rc);
		return;
	}
	if (st->on_start) {
		rc = st->on_start(st->arg, st->path.s, NULL, 0);
		if (rc)
			xml_halt(st, rc);
	}
}

static void XMLCALL xml_on_end(void *data, const XML_Char *name)
{
	struct xml_state *st = data;
	struct xml_mark m;
	int rc = 0;

	(void)name;
	if (st->stop || st->depth == 0)
		return;
	m = st->mark[st->depth - 1];
	if (st->on_end) {
		const char *t = st->text.s ? st->text.s + m.text_len : "";

		rc = st->on_end(st->arg, st->path.s, t, st->text.len - m.text_len);
	}
	st->depth--;
	st->path.len = m.path_len;
	if (st->path.s)
		st->path.s[m.path_len] = '\0';
	st->text.len = m.text_len;
	if (st->text.s)
		st->text.s[m.text_len] = '\0';
	if (rc)
		xml_halt(st, rc);
}

static void XMLCALL xml_on_text(void *data, const XML_Char *s, int len)
{
	struct xml_state *st = data;
	int rc;

	if (st->stop || st->depth == 0)
		return;
	rc = xml_str_append(&st->text, s, (size_t)len);
	if (rc)
		xml_halt(st, rc);
}

static void xml_state_free(struct xml_state *st)
{
	free(st->path.s);
	free(st->text.s);
	free(st->mark);
	if (st->parser)
		XML_ParserFree(st->parser);
}

int ufs_xml_parse(const char *buf, size_t len, ufs_xml_cb on_start, ufs_xml_cb on_end, void *arg,
		  char *err, size_t errlen)
{
	struct xml_state st = {.on_start = on_start, .on_end = on_end, .arg = arg};
	enum XML_Status status;
	int rc = 0;

	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "document too large (%zu bytes)", len);
		return -EIO;
	}
	st.parser = XML_ParserCreate("UTF-8");
	if (!st.parser)
		return -ENOMEM;
	XML_SetUserData(st.parser, &st);
	XML_SetElementHandler(st.parser, xml_on_start, xml_on_end);
	XML_SetCharacterDataHandler(st.parser, xml_on_text);
	status = XML_Parse(st.parser, buf, (int)len, XML_TRUE);
	if (st.stop) {
		rc = st.stop;
	} else if (status != XML_STATUS_OK) {
		snprintf(err, errlen, "line %lu: %s",
			 (unsigned long)XML_GetCurrentLineNumber(st.parser),
			 XML_ErrorString(XML_GetErrorCode(st.parser)));
		rc = -EIO;
	}
	xml_state_free(&st);
	return rc;
}
