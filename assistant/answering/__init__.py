"""The answer pipeline, one stage per module: question → evidence → decision → composition → guard.

`pipeline.AnswerPipeline` wires the stages to a retriever; each stage is plain functions over plain data and can
be tested without Chroma.
"""
