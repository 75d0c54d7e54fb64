extension ChatTemplate {
    /// The family of a model's chat template, read from its `tokenizer.chat_template` metadata.
    ///
    /// Throws `ChatTemplateError` when the key is missing, is not a string, or holds a template
    /// llama.cpp's built-in templates do not recognize.
    ///
    /// The corresponding C function is `llama_model_chat_template(model, NULL)`, whose text
    /// `llama_chat_apply_template` then detects.
    public static func fromGGUF(_ file: GGUFFile) throws(ChatTemplateError) -> ChatTemplate {
        guard let value = file["tokenizer.chat_template"] else {
            throw .missingTemplate(file: file.path)
        }
        guard let text = value.stringValue else {
            throw .templateNotText(file: file.path, value: "\(value)")
        }
        return try detected(in: text, source: file.path)
    }
}
