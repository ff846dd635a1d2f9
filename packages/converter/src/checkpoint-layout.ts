/**
 * How a checkpoint names its tensors. Canonical names (used throughout the converter and in
 * `refs/param_names.json`) are transformers v5's module names: `model.image_tower.*`, `model.video_tower.*`,
 * `model.multi_modal_projector.*`, `model.language_model.*`, `lm_head.weight`.
 *
 * - `hub`: the layout of `LanguageBind/Video-LLaVA-7B-hf` (transformers v4): `image_tower.vision_model.*`,
 *   `language_model.model.*`, `language_model.lm_head.weight`, `multi_modal_projector.*`.
 * - `transformers-v5-saved`: what transformers v5 `save_pretrained` writes: `image_tower.*` (no
 *   `vision_model`), `language_model.model.*`, `language_model.lm_head.weight`, `multi_modal_projector.*`.
 * - `transformers-v5`: the module names as they are, `model.*` and `lm_head.weight`.
 */
export type CheckpointLayout = 'hub' | 'transformers-v5-saved' | 'transformers-v5';

type Component =
  | 'model.image_tower.'
  | 'model.video_tower.'
  | 'model.language_model.'
  | 'lm_head.'
  | 'model.multi_modal_projector.';

const COMPONENTS: readonly Component[] = [
  'model.image_tower.',
  'model.video_tower.',
  'model.language_model.',
  'lm_head.',
  'model.multi_modal_projector.',
];

/** Each layout's prefix for each canonical prefix. */
export const CHECKPOINT_LAYOUT_PREFIXES: Readonly<Record<CheckpointLayout, Readonly<Record<Component, string>>>> = {
  hub: {
    'model.image_tower.': 'image_tower.vision_model.',
    'model.video_tower.': 'video_tower.vision_model.',
    'model.language_model.': 'language_model.model.',
    'lm_head.': 'language_model.lm_head.',
    'model.multi_modal_projector.': 'multi_modal_projector.',
  },
  'transformers-v5-saved': {
    'model.image_tower.': 'image_tower.',
    'model.video_tower.': 'video_tower.',
    'model.language_model.': 'language_model.model.',
    'lm_head.': 'language_model.lm_head.',
    'model.multi_modal_projector.': 'multi_modal_projector.',
  },
  'transformers-v5': {
    'model.image_tower.': 'model.image_tower.',
    'model.video_tower.': 'model.video_tower.',
    'model.language_model.': 'model.language_model.',
    'lm_head.': 'lm_head.',
    'model.multi_modal_projector.': 'model.multi_modal_projector.',
  },
};

/** All layouts, in the order names are looked up. */
export const CHECKPOINT_LAYOUTS: readonly CheckpointLayout[] = ['hub', 'transformers-v5-saved', 'transformers-v5'];

/** The name a canonical tensor name has in a checkpoint of `layout`. */
export function checkpointName(canonical: string, layout: CheckpointLayout): string {
  for (const component of COMPONENTS) {
    if (canonical.startsWith(component))
      return CHECKPOINT_LAYOUT_PREFIXES[layout][component] + canonical.slice(component.length);
  }
  return canonical;
}

/** Every name a canonical tensor may have, one per layout (duplicates removed). */
export function candidateNames(canonical: string): string[] {
  return [...new Set(CHECKPOINT_LAYOUTS.map((layout) => checkpointName(canonical, layout)))];
}

/** The canonical name of a checkpoint tensor name, or `undefined` when no layout produces it. */
export function canonicalName(name: string): string | undefined {
  // Longest prefixes first so `image_tower.vision_model.` wins over `image_tower.`.
  const pairs = CHECKPOINT_LAYOUTS.flatMap((layout) =>
    COMPONENTS.map((component) => [CHECKPOINT_LAYOUT_PREFIXES[layout][component], component] as const),
  ).sort((a, b) => b[0].length - a[0].length);
  for (const [prefix, component] of pairs) if (name.startsWith(prefix)) return component + name.slice(prefix.length);
  return undefined;
}
