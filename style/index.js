import './base.css';
import './parameters.css';
import './results.css';
