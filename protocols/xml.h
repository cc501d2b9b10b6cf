/*
 * xml.h — a small event wrapper over expat for the listing responses of S3
 * (ListObjectsV2, errors) and Azure Blob (List Blobs, errors).
 *
 * Each element is reported by its full slash-joined path from the document
 * root, e.g. "ListBucketResult/Contents/Key", so a parser is a flat switch on
 * strings. Text is the element's character data, entity-decoded, not trimmed.
 */
#ifndef UFS_XML_H
#define UFS_XML_H

#include <stddef.h>

/* start: text == NULL, len == 0. end: the element's text (may be empty).
 * Return non-zero to stop parsing; ufs_xml_parse() then returns that value. */
typedef int (*ufs_xml_cb)(void *arg, const char *path, const char *text, size_t len);

/*
 * Parse buf[0..len). on_start (may be NULL) is called when an element opens,
 * on_end when it closes. Returns 0, a callback's non-zero value, or -EIO for
 * malformed XML with "line N: <expat message>" in err.
 */
int ufs_xml_parse(const char *buf, size_t len, ufs_xml_cb on_start, ufs_xml_cb on_end, void *arg,
		  char *err, size_t errlen);

#endif
