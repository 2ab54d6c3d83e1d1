// Finds the line of a field in YAML text: the document that starts on a line,
// the item of a `kind: List` document, then the path, key by key. A field
// that is not in the text (a required one that is missing, or one a default
// filled in) gets the line of the nearest enclosing field that is.
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
} from 'yaml';
import type { PathSegment } from './validator.js';

type YamlNode = NonNullable<Document['contents']>;

export class YamlLocator {
  private readonly lines = new LineCounter();
  private readonly docs = new Map<number, Document>();

  constructor(text: string) {
    const docs = parseAllDocuments(text, { lineCounter: this.lines });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      const start = doc.contents?.range[0] ?? doc.range[0];
      this.docs.set(this.lineOf(start), doc);
    }
  }

  private lineOf(offset: number): number {
    return this.lines.linePos(offset).line;
  }

  /**
   * The line of `path` in the document whose content starts on `docLine`;
   * `item` is the object's position among the items of a `kind: List` document.
   */
  line(docLine: number, item: number, path: readonly PathSegment[]): number {
    const doc = this.docs.get(docLine);
    if (!doc?.contents) return docLine;
    let node: YamlNode | null | undefined = doc.contents;
    let line = docLine;
    if (isMap(node) && node.get('kind') === 'List') {
      const items = node.get('items', true);
      const it = isSeq(items) ? items.items[item] : undefined;
      if (!it || typeof it !== 'object') return docLine;
      node = it as YamlNode;
      if (node.range) line = this.lineOf(node.range[0]);
    }
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(doc) as YamlNode | undefined;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg),
        );
        if (!pair) break;
        const key = pair.key as YamlNode | null;
        if (key && typeof key === 'object' && key.range) line = this.lineOf(key.range[0]);
        node = pair.value as YamlNode | null;
      } else if (isSeq(node) && typeof seg === 'number') {
        const it = node.items[seg] as YamlNode | null | undefined;
        if (!it || typeof it !== 'object') break;
        if (it.range) line = this.lineOf(it.range[0]);
        node = it;
      } else {
        break;
      }
      if (!node) break;
    }
    return line;
  }
}
