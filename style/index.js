import './base.css';
import './parameters.css';
