import './style.css';
import {
  type ChatMessage,
  type ProgressEvent,
  VideoLlava,
  type VideoLlavaAnswer,
  VideoLlavaError,
  webPlatform,
} from 'video-llava/web';
import { explainLoadError, explainMediaError, tooBigForBrowser } from './explain.js';
import { type FolderSource, filesFromInput, folderSource, hasDirectoryPicker, pickDirectory } from './folder-source.js';
import { type DecodedMedia, drawImageThumbnail, drawVideoThumbnails } from './media.js';
import { ProgressList } from './progress-list.js';
import { readSettings } from './settings.js';

type Backend = ReturnType<typeof webPlatform.createBackend>;

const settings = readSettings(location.search);

function element<T extends Element = HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (found === null) throw new Error(`index.html has no ${selector}`);
  return found;
}

const ui = {
  modelForm: element<HTMLFormElement>('[data-testid=model-form]'),
  modelUrl: element<HTMLInputElement>('[data-testid=model-url]'),
  loadButton: element<HTMLButtonElement>('[data-action=load]'),
  folderButton: element<HTMLButtonElement>('[data-action=open-folder]'),
  folderInput: element<HTMLInputElement>('[data-testid=model-folder]'),
  modelStatus: element('[data-testid=model-status]'),
  progress: new ProgressList(element('[data-testid=progress]')),
  device: element('[data-testid=device]'),
  speed: element('[data-testid=speed]'),
  drop: element('[data-testid=drop]'),
  media: element<HTMLInputElement>('input[type=file][data-testid=media]'),
  mediaName: element('[data-testid=media-name]'),
  mediaError: element('[data-testid=media-error]'),
  thumbnails: element('[data-testid=thumbnails]'),
  conversation: element('[data-testid=conversation]'),
  askForm: element<HTMLFormElement>('[data-testid=ask-form]'),
  question: element<HTMLTextAreaElement>('textarea'),
  askButton: element<HTMLButtonElement>('[data-action=ask]'),
  cancelButton: element<HTMLButtonElement>('[data-action=cancel]'),
  newConversationButton: element<HTMLButtonElement>('[data-action=new-conversation]'),
  askHint: element('[data-testid=ask-hint]'),
};

let model: VideoLlava | undefined;
let loading: AbortController | undefined;
let asking: AbortController | undefined;
/** The picked media, decoded (videos: the sampled frames). */
let media: DecodedMedia[] = [];
let pickedFiles: File[] = [];
/** The conversation about the current media: questions and answers so far. */
let turns: Array<{ question: string; answer: string }> = [];

function setStatus(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
  ui.modelStatus.textContent = text;
  ui.modelStatus.dataset.kind = kind;
}

function updateButtons(): void {
  const busy = asking !== undefined;
  ui.askButton.disabled = model === undefined || busy || loading !== undefined;
  ui.cancelButton.disabled = !busy;
  ui.loadButton.disabled = loading !== undefined;
  ui.folderButton.disabled = loading !== undefined;
  ui.askHint.textContent =
    model === undefined
      ? 'Load a model first.'
      : media.length === 0
        ? 'No video: the question is about text only.'
        : '';
}

/** WebGPU when the browser gives an adapter, else WebAssembly; `?device=` forces one. */
async function chooseDevice(): Promise<'webgpu' | 'wasm'> {
  if (settings.device !== undefined) return settings.device;
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu === undefined) return 'wasm';
  try {
    return (await gpu.requestAdapter()) ? 'webgpu' : 'wasm';
  } catch {
    return 'wasm';
  }
}

const DEVICE_NAMES: Record<string, string> = { webgpu: 'WebGPU', wasm: 'WebAssembly', cpu: 'WebAssembly' };

function showDevice(providers: readonly string[]): void {
  const names = [...new Set(providers.map((provider) => DEVICE_NAMES[provider] ?? provider))];
  // onnxruntime-web's default: half the cores, at most 4, in a cross-origin isolated page; else one
  const count =
    settings.threads ?? (crossOriginIsolated ? Math.min(4, Math.ceil((navigator.hardwareConcurrency || 1) / 2)) : 1);
  const threads = names.includes('WebAssembly') ? ` · ${count} thread${count === 1 ? '' : 's'}` : '';
  ui.device.textContent = `device: ${names.join(' + ')}${threads}`;
  ui.device.dataset.device = [...new Set(providers)].join(',');
}

/** A backend that records the execution provider each session runs on, to show it. */
function recordingBackend(providers: string[]): Backend {
  const inner = webPlatform.createBackend();
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    async createSession(file, options) {
      const session = await inner.createSession(file, options);
      providers.push(session.executionProvider);
      return session;
    },
  };
}

class TooBig extends Error {}

async function loadModel(source: string | FolderSource, label: string): Promise<void> {
  loading?.abort();
  asking?.abort();
  const controller = new AbortController();
  loading = controller;
  updateButtons();
  const previous = model;
  model = undefined;
  await previous?.release().catch(() => undefined);
  ui.progress.clear();
  ui.device.textContent = 'device: —';
  const device = await chooseDevice();
  setStatus(`Loading ${label} on ${DEVICE_NAMES[device]}…`);
  const sizes = new Map<string, number>();
  const onProgress = (event: ProgressEvent): void => {
    ui.progress.update(event);
    if (event.stage === 'download' && event.file !== undefined && event.total !== undefined && !sizes.has(event.file)) {
      sizes.set(event.file, event.total);
      const total = [...sizes.values()].reduce((sum, bytes) => sum + bytes, 0);
      const reason = tooBigForBrowser(event.file, event.total, total, device);
      if (reason !== undefined) controller.abort(new TooBig(reason));
    }
  };
  const providers: string[] = [];
  const started = performance.now();
  try {
    const loaded = await VideoLlava.load(source, {
      backend: recordingBackend(providers),
      sessionOptions: {
        executionProviders: device === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'],
        ...(settings.threads === undefined ? {} : { threads: settings.threads }),
      },
      preload: ['embed_tokens', 'decoder_model_merged', 'video_encoder'],
      onProgress,
      signal: controller.signal,
    });
    if (loading !== controller) {
      await loaded.release();
      return;
    }
    model = loaded;
    // A new model starts a new conversation (the old one's cached prefix went with the old model)
    resetConversationView();
    showDevice(providers);
    ui.progress.finish();
    setStatus(
      `${label} is ready (${((performance.now() - started) / 1000).toFixed(1)} s). Pick a video and ask.`,
      'ok',
    );
    document.body.dataset.model = 'ready';
    if (pickedFiles.length > 0 && media.length === 0) await decodeMedia(pickedFiles);
  } catch (error) {
    if (loading !== controller) return;
    const reason = controller.signal.reason;
    setStatus(reason instanceof TooBig ? reason.message : explainLoadError(error), 'error');
    document.body.dataset.model = 'failed';
  } finally {
    if (loading === controller) loading = undefined;
    updateButtons();
  }
}

function numFrames(): number {
  return model?.config.processor.videoProcessor.numFrames ?? 8;
}

function isImage(file: File): boolean {
  return file.type.startsWith('image/') || /\.(png|jpe?g|webp|gif|bmp)$/i.test(file.name);
}

async function decodeMedia(files: File[]): Promise<void> {
  media = [];
  turns = [];
  model?.clearPrefixCache();
  ui.thumbnails.replaceChildren();
  ui.mediaError.hidden = true;
  ui.mediaName.textContent = files.map((file) => file.name).join(', ');
  const frames = numFrames();
  const decoded: DecodedMedia[] = [];
  for (const file of files) {
    try {
      if (isImage(file)) {
        const image = await webPlatform.loadImage(file, { numFrames: frames });
        decoded.push({ kind: 'image', name: file.name, image });
        ui.thumbnails.append(await drawImageThumbnail(file, file.name));
      } else {
        const video = (await webPlatform.loadVideo(file, { numFrames: frames })) as unknown as Extract<
          DecodedMedia,
          { kind: 'video' }
        >['video'];
        decoded.push({ kind: 'video', name: file.name, video });
        ui.thumbnails.append(...drawVideoThumbnails(video));
      }
    } catch (error) {
      ui.mediaError.textContent = explainMediaError(file.name, error);
      ui.mediaError.hidden = false;
      ui.thumbnails.replaceChildren();
      ui.mediaName.textContent = '';
      document.body.dataset.media = 'failed';
      updateButtons();
      return;
    }
  }
  media = decoded;
  document.body.dataset.media = 'ready';
  ui.thumbnails.dataset.count = String(ui.thumbnails.childElementCount);
  resetConversationView();
  updateButtons();
}

async function pickMedia(files: File[]): Promise<void> {
  if (files.length === 0) return;
  asking?.abort();
  pickedFiles = files;
  media = [];
  if (model === undefined) {
    ui.mediaName.textContent = `${files.map((file) => file.name).join(', ')} (decoded once the model is loaded)`;
    return;
  }
  await decodeMedia(files);
}

function resetConversationView(): void {
  turns = [];
  model?.clearPrefixCache();
  const empty = document.createElement('p');
  empty.className = 'empty';
  empty.textContent =
    media.length > 0
      ? `Ask about ${media.map((item) => item.name).join(', ')}.`
      : 'Your questions and the model’s answers appear here.';
  ui.conversation.replaceChildren(empty);
}

/** The chat so far plus the new question: the media go with the first question, as Video-LLaVA was trained. */
function messagesFor(question: string): ChatMessage[] {
  const placeholders = [
    ...media.filter((item) => item.kind === 'image').map(() => ({ type: 'image' as const })),
    ...media.filter((item) => item.kind === 'video').map(() => ({ type: 'video' as const })),
  ];
  const messages: ChatMessage[] = [];
  const all = [...turns.map((turn) => turn.question), question];
  all.forEach((text, index) => {
    messages.push({
      role: 'user',
      content: index === 0 ? [...placeholders, { type: 'text', text }] : [{ type: 'text', text }],
    });
    if (index < turns.length)
      messages.push({ role: 'assistant', content: [{ type: 'text', text: turns[index]!.answer }] });
  });
  return messages;
}

function appendTurn(question: string): { answer: HTMLElement; stats: HTMLElement; stage: HTMLElement } {
  ui.conversation.querySelector('.empty')?.remove();
  for (const old of ui.conversation.querySelectorAll('[data-testid=answer]')) old.removeAttribute('data-testid');
  const turn = document.createElement('article');
  turn.className = 'turn';
  const asked = document.createElement('div');
  asked.className = 'bubble question';
  asked.textContent = question;
  const answer = document.createElement('div');
  answer.className = 'bubble answer';
  answer.dataset.testid = 'answer';
  answer.dataset.done = 'false';
  answer.dataset.tokenIds = '[]';
  const stage = document.createElement('span');
  stage.className = 'stage';
  answer.append(stage);
  const stats = document.createElement('div');
  stats.className = 'stats';
  turn.append(asked, answer, stats);
  ui.conversation.append(turn);
  ui.conversation.scrollTop = ui.conversation.scrollHeight;
  return { answer, stats, stage };
}

const STAGE_NAMES: Record<string, string> = {
  'decode-video': 'decoding the video',
  'decode-image': 'decoding the image',
  encode: 'encoding the frames',
  prefill: 'reading the prompt',
  decode: 'answering',
};

async function ask(): Promise<void> {
  const question = ui.question.value.trim();
  if (model === undefined || asking !== undefined || question === '') return;
  const current = model;
  const controller = new AbortController();
  asking = controller;
  updateButtons();
  ui.question.value = '';
  const view = appendTurn(question);
  view.stage.textContent = 'thinking…';
  const text = document.createTextNode('');
  view.answer.prepend(text);
  const before = { ...current.model.statistics };
  const started = performance.now();
  let firstToken: number | undefined;
  let lastToken = started;
  let tokens = 0;
  let answer: VideoLlavaAnswer | undefined;
  try {
    const stream = current.stream({
      messages: messagesFor(question),
      videos: media.flatMap((item) => (item.kind === 'video' ? [item.video] : [])),
      images: media.flatMap((item) => (item.kind === 'image' ? [item.image] : [])),
      maxNewTokens: settings.maxNewTokens,
      ...(settings.greedy ? { doSample: false } : {}),
      signal: controller.signal,
      onProgress: (event) => {
        if (event.stage !== 'decode') view.stage.textContent = `${STAGE_NAMES[event.stage] ?? event.stage}…`;
      },
    });
    for await (const delta of stream) {
      if (delta.tokenId !== undefined) {
        const now = performance.now();
        firstToken ??= now;
        lastToken = now;
        tokens++;
        view.stage.textContent = '';
      }
      text.data += delta.text;
      ui.conversation.scrollTop = ui.conversation.scrollHeight;
    }
    answer = await stream.result;
    text.data = answer.text || (answer.finishReason === 'abort' ? 'Cancelled before the first word.' : '(no text)');
    const after = current.model.statistics;
    const decodeSeconds = firstToken === undefined ? 0 : (lastToken - firstToken) / 1000;
    const speed = tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : undefined;
    const reused = after.reusedPrefixTokens - before.reusedPrefixTokens;
    ui.speed.textContent = speed === undefined ? '— tokens/s' : `${speed.toFixed(1)} tokens/s`;
    const parts = [
      `${answer.ids.length} tokens`,
      speed === undefined ? undefined : `${speed.toFixed(1)} tokens/s`,
      firstToken === undefined ? undefined : `first token after ${((firstToken - started) / 1000).toFixed(1)} s`,
      reused > 0 ? `${reused} prompt tokens reused from the last answer` : undefined,
      answer.finishReason === 'abort'
        ? 'cancelled'
        : answer.finishReason === 'length'
          ? 'stopped at max_new_tokens'
          : undefined,
    ];
    view.stats.textContent = parts.filter(Boolean).join(' · ');
    view.answer.dataset.reusedTokens = String(reused);
    view.answer.dataset.finishReason = answer.finishReason;
    view.answer.dataset.tokenIds = JSON.stringify(answer.ids);
    turns.push({ question, answer: answer.text });
  } catch (error) {
    const message =
      VideoLlavaError.isInstance(error) &&
      ['DECODE_FAILED', 'INVALID_FILE', 'UNSUPPORTED'].includes(error.code) &&
      error.field === 'videos'
        ? explainMediaError(media[0]?.name ?? 'the media', error)
        : error instanceof Error
          ? error.message
          : String(error);
    view.stats.textContent = '';
    view.answer.classList.add('failed');
    text.data = message;
    view.answer.dataset.error = error instanceof Error ? error.message : String(error);
  } finally {
    view.stage.remove();
    view.answer.dataset.done = 'true';
    asking = undefined;
    updateButtons();
    ui.question.focus();
  }
}

ui.modelForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const url = ui.modelUrl.value.trim();
  if (url === '') {
    setStatus('Type the URL of a converted model folder, or open a folder from your disk.', 'error');
    return;
  }
  const resolved = new URL(url, location.href).href;
  const next = new URL(location.href);
  next.searchParams.set('model', url);
  history.replaceState(null, '', next);
  void loadModel(resolved.endsWith('/') ? resolved : `${resolved}/`, url);
});

ui.folderButton.addEventListener('click', async () => {
  if (!hasDirectoryPicker()) {
    ui.folderInput.click();
    return;
  }
  try {
    const picked = await pickDirectory();
    await loadModel(folderSource(picked.name, picked.files), `the folder “${picked.name}”`);
  } catch (error) {
    if ((error as { name?: string }).name !== 'AbortError') setStatus(explainLoadError(error), 'error');
  }
});

ui.folderInput.addEventListener('change', () => {
  if (!ui.folderInput.files || ui.folderInput.files.length === 0) return;
  const picked = filesFromInput(ui.folderInput.files);
  void loadModel(folderSource(picked.name, picked.files), `the folder “${picked.name}”`);
});

ui.media.addEventListener('change', () => void pickMedia(Array.from(ui.media.files ?? [])));
ui.drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.drop.classList.remove('over');
  void pickMedia(Array.from(event.dataTransfer?.files ?? []));
});

ui.askForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void ask();
});
ui.question.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    void ask();
  }
});
ui.cancelButton.addEventListener('click', () => asking?.abort());
ui.newConversationButton.addEventListener('click', () => {
  asking?.abort();
  resetConversationView();
});

if (settings.problems.length > 0) setStatus(settings.problems.join(' '), 'error');
if (settings.device !== undefined) ui.device.textContent = `device: ${DEVICE_NAMES[settings.device]} (forced)`;
updateButtons();
if (settings.model !== undefined) {
  ui.modelUrl.value = settings.model;
  const resolved = new URL(settings.model, location.href).href;
  void loadModel(resolved.endsWith('/') ? resolved : `${resolved}/`, settings.model);
}
