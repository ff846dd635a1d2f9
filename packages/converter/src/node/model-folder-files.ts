/** Files beside the weights that a model folder needs (copied when present). */
export const MODEL_FOLDER_FILES: readonly string[] = [
  'config.json',
  'generation_config.json',
  'processor_config.json',
  'preprocessor_config.json',
  'video_preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'chat_template.json',
  'chat_template.jinja',
  'tokenizer.model',
];
