"""The plain LangChain RetrievalQA-style endpoint the load benchmark compares against, on the same machine:
RecursiveCharacterTextSplitter(1000, 200), MiniLM, Chroma top-4, and a "stuff" chain over a fake LLM.

Run: uvicorn bench.baseline_app:app --workers 2 --port 8100   (POST /ask {"question": ...})
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate
from pydantic import BaseModel

from assistant.embeddings import MiniLMEmbeddings
from evals.baseline import BaselineRetriever

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "the-revolution-will-be-improvised.md"
STUFF_PROMPT = PromptTemplate.from_template(
    "Use the following pieces of context to answer the question at the end.\n\n{context}\n\nQuestion: {question}\n"
    "Helpful Answer:"
)

retriever = BaselineRetriever([CORPUS], MiniLMEmbeddings(progress=False))
chain = STUFF_PROMPT | FakeListLLM(responses=["A fixed answer from a fake LLM."]) | StrOutputParser()
app = FastAPI(title="LangChain default-recipe baseline")


class Question(BaseModel):
    question: str


@app.post("/ask")
def ask(body: Question) -> dict:
    documents = retriever.search(body.question, 4)
    answer = chain.invoke({"context": "\n\n".join(documents), "question": body.question})
    return {"answer": answer, "sources": documents}
