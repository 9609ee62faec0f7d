"""followup-bot: grounded answers to follow-up questions about one article and its sources.

The offline and no-telemetry switches are set here, before anything imports Hugging Face,
Chroma, onnxruntime or Gradio, because each of them otherwise reaches for the network.
"""

import os

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TQDM_DISABLE_WEIGHTS": "1",
}.items():
    os.environ.setdefault(_key, _value)

__version__ = "0.1.0"

__all__ = ["Assistant", "__version__"]


def __getattr__(name: str):  # lazy: `import followup_bot` must stay cheap for the CLI
    if name == "Assistant":
        from followup_bot.assistant import Assistant

        return Assistant
    raise AttributeError(name)
