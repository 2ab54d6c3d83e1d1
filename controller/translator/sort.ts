// Sorting the many small arrays a translation makes (a cluster's endpoints, a
// route's hosts on a listener, the entries of one host). V8's Array#sort
// allocates working storage on every call; tens of thousands of calls per
// translation made that a tenth of everything the translator allocated. An
// insertion sort (stable, like Array#sort) does short arrays in place.
const SHORT = 12;

/** Sorts `items` in place, stably; returns it. */
export function sortInPlace<T>(items: T[], compare: (a: T, b: T) => number): T[] {
  if (items.length > SHORT) return items.sort(compare);
  for (let i = 1; i < items.length; i++) {
    const x = items[i]!;
    let j = i - 1;
    while (j >= 0 && compare(items[j]!, x) > 0) {
      items[j + 1] = items[j]!;
      j--;
    }
    items[j + 1] = x;
  }
  return items;
}

/** Compares strings by UTF-16 code units, as Array#sort does without a comparator. */
export function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
