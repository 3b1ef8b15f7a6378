"""Customer emotion: per-message classification and the trend over a conversation.

    from kefu.emotion import load_default, assess_trend
    model = load_default()                      # spaCy textcat + signals, cached in .kefu/
    emotion = model.predict("你们可真行，三天了还没到！！！")
    # {"label": "angry", "intensity": 0.9, "scores": {...5 labels...}, "signals": [...]}
    assess_trend([emotion_1, emotion_2, emotion_3]).as_slots()
    # {"emotion_trend": "rising", "needs_human": True, "needs_human_reason": "rising_anger"}

The Rasa component is ``kefu.emotion.component.EmotionClassifier`` (importing it
loads Rasa and TensorFlow; importing this package does not, nor does it load spaCy).
"""
from kefu.emotion.classifier import EmotionModel, data_digest, load_default, predict
from kefu.emotion.labels import LABELS, NEGATIVE_LABELS
from kefu.emotion.trend import TrendAssessment, assess_trend

__all__ = [
    "LABELS",
    "NEGATIVE_LABELS",
    "EmotionModel",
    "TrendAssessment",
    "assess_trend",
    "data_digest",
    "load_default",
    "predict",
]
