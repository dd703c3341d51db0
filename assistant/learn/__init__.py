"""Training code: fits the models the serving path loads (the domain-tuned encoder). Serving never imports this
package; it reads the fitted artefacts under `<data dir>/models/`."""
