import type { ProgressEvent } from 'video-llava/web';

function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

interface Row {
  element: HTMLElement;
  bar: HTMLProgressElement;
  text: HTMLElement;
}

/**
 * Progress bars while a model loads: one per file downloaded (bytes; a file from the Cache API fills at once) and
 * one per ONNX session opened. Finished rows fold into a one-line summary.
 */
export class ProgressList {
  readonly #container: HTMLElement;
  readonly #rows = new Map<string, Row>();
  readonly #bytes = new Map<string, number>();

  constructor(container: HTMLElement) {
    this.#container = container;
  }

  clear(): void {
    this.#rows.clear();
    this.#bytes.clear();
    this.#container.replaceChildren();
    this.#container.hidden = true;
  }

  #row(key: string, label: string): Row {
    let row = this.#rows.get(key);
    if (row === undefined) {
      const element = document.createElement('div');
      element.className = 'progress-row';
      const name = document.createElement('span');
      name.className = 'progress-name';
      name.textContent = label;
      const bar = document.createElement('progress');
      bar.max = 1;
      const text = document.createElement('span');
      text.className = 'progress-text';
      element.append(name, bar, text);
      this.#container.append(element);
      this.#container.hidden = false;
      row = { element, bar, text };
      this.#rows.set(key, row);
    }
    return row;
  }

  update(event: ProgressEvent): void {
    const file = event.file ?? '';
    if (event.stage === 'download') {
      const row = this.#row(`download ${file}`, file);
      row.element.dataset.stage = 'download';
      if (event.total) {
        this.#bytes.set(file, event.total);
        row.bar.value = Math.min(1, event.done / event.total);
        row.text.textContent = `${formatBytes(event.done)} / ${formatBytes(event.total)}`;
      } else {
        row.bar.removeAttribute('value');
        row.text.textContent = formatBytes(event.done);
      }
      row.element.classList.toggle('done', event.total !== undefined && event.done >= event.total);
    } else if (event.stage === 'load') {
      const row = this.#row(`load ${file}`, `opening ${file}`);
      row.element.dataset.stage = 'load';
      const finished = event.total !== undefined && event.done >= event.total;
      if (finished) row.bar.value = 1;
      else row.bar.removeAttribute('value');
      row.text.textContent = finished ? 'ready' : 'opening…';
      row.element.classList.toggle('done', finished);
    }
  }

  /** Folds the rows into a summary once everything is loaded. */
  finish(): void {
    const bytes = [...this.#bytes.values()].reduce((sum, size) => sum + size, 0);
    const sessions = [...this.#rows.keys()].filter((key) => key.startsWith('load ')).length;
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = `${this.#bytes.size} files (${formatBytes(bytes)}) loaded, ${sessions} sessions opened`;
    details.append(summary, ...[...this.#rows.values()].map((row) => row.element));
    this.#container.replaceChildren(details);
  }
}
